package ops

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// The squeeze-excite backward pass with its input gradient in one pass.
// The unfused path writes dx twice more than it needs:
//
//	ChannelScaleBackward(dxScale, dsc, dy, x, sc)   dxScale = dy*sc, dsc
//	... dpooled from dsc through the gate's layers ...
//	GlobalAvgPoolBackward(dxPool, dpooled)           dxPool = dpooled/(H*W)
//	Add(dx, dxScale, dxPool)
//
// The fused one is ChannelScaleBackwardGate (dsc only), then
// SqueezeExciteBackwardData (dx = dy*sc + dpooled/(H*W)): two passes over
// [N,C,H,W] tensors instead of seven, two dispatches instead of three.

// ChannelScaleBackwardGate records dsc of ChannelScaleBackward without dx:
//
//	dsc[n,c] = sum_{h,w} dy[n,c,h,w] * x[n,c,h,w]
//
// dy and x are [N,C,H,W], dsc [N,C] (or [N,C,1,1]); the sum runs in the
// same fixed order (bitwise the same dsc).
func ChannelScaleBackwardGate(s *engine.Sequence, dsc, dy, x *engine.Tensor) {
	const op = "channel scale backward gate"
	rows, hw, ok := planes(s, op, "x", x, "dsc", dsc)
	if !ok || !dtypeIs(s, op, "dy", dy, engine.Float32) || !wantShape(s, op, "dy", dy, x.Shape...) ||
		splitBatch(s, op, func(part batchPart, _ int) { ChannelScaleBackwardGate(s, part(dsc), part(dy), part(x)) }, dsc, dy, x) {
		return
	}
	lanes := rowLanes(s.Device(), ceilDiv(hw, 4))
	name := "channel_scale_backward_gate"
	if hw%4 == 0 {
		name = "channel_scale_backward_gate_vec4"
	}
	k := s.Kernel(name, seLocal, engine.Spec{ID: 1, Value: lanes})
	s.Dispatch1D(k, rows*int(lanes), shaders.ChannelScaleBackwardGatePush{Rows: uint32(rows), Len: uint32(hw), Scale: 1}, dsc, dy, x)
}

// SqueezeExciteBackwardData records the input gradient of squeeze-excite,
// y = x * sc[n,c] with sc computed from pooled = mean_hw(x), from dy and
// dpooled (the gradient reaching the pool through the gate):
//
//	dx[n,c,h,w] = dy[n,c,h,w] * sc[n,c] + dpooled[n,c] / (H*W)
//
// dx and dy are [N,C,H,W]; sc and dpooled [N,C] (or [N,C,1,1]).
func SqueezeExciteBackwardData(s *engine.Sequence, dx, dy, sc, dpooled *engine.Tensor) {
	const op = "squeeze-excite backward data"
	_, hw, ok := planes(s, op, "dy", dy, "sc", sc)
	if !ok || !wantMatrix(s, op, "dpooled", dpooled, sc.Shape[0], sc.Shape[1]) ||
		!dtypeIs(s, op, "dx", dx, engine.Float32) || !wantShape(s, op, "dx", dx, dy.Shape...) ||
		splitBatch(s, op, func(part batchPart, _ int) {
			SqueezeExciteBackwardData(s, part(dx), part(dy), part(sc), part(dpooled))
		}, dx, dy, sc, dpooled) {
		return
	}
	n := dy.Len()
	scale := 1 / float32(hw)
	if hw%4 == 0 {
		k := s.Kernel("squeeze_excite_backward_data_vec4", seLocal)
		s.Dispatch1D(k, n/4, shaders.SqueezeExciteBackwardDataVec4Push{N: uint32(n), Len: uint32(hw), Scale: scale}, dx, dy, sc, dpooled)
		return
	}
	k := s.Kernel("squeeze_excite_backward_data", seLocal)
	s.Dispatch1D(k, ceilDiv(n, 4), shaders.SqueezeExciteBackwardDataPush{N: uint32(n), Len: uint32(hw), Scale: scale}, dx, dy, sc, dpooled)
}
