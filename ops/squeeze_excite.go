package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// seLocalSize is the workgroup size (specialization constant 0) of the
// squeeze-excite, dropout, classifier, input and reduction kernels.
const seLocalSize = 64

// seLocal is the specialization constant that sets the workgroup size.
var seLocal = engine.Spec{ID: 0, Value: seLocalSize}

// rowLanes is how many invocations of one subgroup share a row of texels
// (specialization constant LANES): a power of two, at most the subgroup size
// and the vendor's rowLanesMax (32; 8 on Intel, whose compilers may pick a
// smaller subgroup than reported), and small enough that each lane adds at
// least four texels.
func rowLanes(d *engine.Device, texels int) uint32 {
	limit := min(max(int(d.Info.SubgroupSize), 1), int(defaultsOf(d).rowLanesMax))
	lanes := 1
	for lanes*2 <= limit && lanes*2*4 <= texels {
		lanes *= 2
	}
	return uint32(lanes)
}

// dtypeIs records an error in s unless t holds elements of type dt.
func dtypeIs(s *engine.Sequence, op, role string, t *engine.Tensor, dt engine.DType) bool {
	if t == nil {
		s.Fail(fmt.Errorf("%s: %s is missing", op, role))
		return false
	}
	if t.DType != dt {
		s.Fail(fmt.Errorf("%s: %s %s must hold %s elements", op, role, t, dt))
		return false
	}
	return true
}

// matrixShape reads a [rows, cols] tensor, also accepting [rows, cols, 1, 1]
// (a 1x1 convolution's weight, or a pooled NCHW tensor).
func matrixShape(s *engine.Sequence, op, role string, t *engine.Tensor) (rows, cols int, ok bool) {
	if !dtypeIs(s, op, role, t, engine.Float32) {
		return 0, 0, false
	}
	sh := t.Shape
	if len(sh) == 2 || len(sh) == 4 && sh[2] == 1 && sh[3] == 1 {
		return sh[0], sh[1], true
	}
	s.Fail(fmt.Errorf("%s: %s %s must be [rows, cols] or [rows, cols, 1, 1]", op, role, t))
	return 0, 0, false
}

// wantMatrix records an error in s unless t is float32 [rows, cols] (or
// [rows, cols, 1, 1]).
func wantMatrix(s *engine.Sequence, op, role string, t *engine.Tensor, rows, cols int) bool {
	r, c, ok := matrixShape(s, op, role, t)
	if ok && (r != rows || c != cols) {
		s.Fail(fmt.Errorf("%s: %s %s does not match shape [%d %d]", op, role, t, rows, cols))
		return false
	}
	return ok
}

// wantVector records an error in s unless t is float32 [n] (a bias or a
// per-channel vector).
func wantVector(s *engine.Sequence, op, role string, t *engine.Tensor, n int) bool {
	return dtypeIs(s, op, role, t, engine.Float32) && wantShape(s, op, role, t, n)
}

// planes reads the [N,C,H,W] float32 tensor x and checks that the per-channel
// tensor g is [N,C] (or [N,C,1,1]).
func planes(s *engine.Sequence, op, xRole string, x *engine.Tensor, gRole string, g *engine.Tensor) (rows, hw int, ok bool) {
	if !dtypeIs(s, op, xRole, x, engine.Float32) {
		return 0, 0, false
	}
	n, c, h, w, ok := shape4(s, op, x)
	if !ok || !wantMatrix(s, op, gRole, g, n, c) {
		return 0, 0, false
	}
	return n * c, h * w, true
}

// GlobalAvgPoolForward records the squeeze of squeeze-excite (and the
// head's pool), y [N,C] (or [N,C,1,1]) from x [N,C,H,W]:
//
//	y[n,c] = (1/(H*W)) sum_{h,w} x[n,c,h,w]
func GlobalAvgPoolForward(s *engine.Sequence, y, x *engine.Tensor) {
	const op = "global avg pool forward"
	rows, hw, ok := planes(s, op, "x", x, "y", y)
	if !ok || splitBatch(s, op, func(part batchPart, _ int) { GlobalAvgPoolForward(s, part(y), part(x)) }, y, x) {
		return
	}
	lanes := rowLanes(s.Device(), ceilDiv(hw, 4))
	k := s.Kernel("global_avg_pool_forward", seLocal, engine.Spec{ID: 1, Value: lanes})
	s.Dispatch1D(k, rows*int(lanes), shaders.GlobalAvgPoolForwardPush{Rows: uint32(rows), Len: uint32(hw), Scale: 1 / float32(hw)}, y, x)
}

// GlobalAvgPoolBackward records the gradient of GlobalAvgPoolForward, dx
// [N,C,H,W] from dy [N,C]:
//
//	dx[n,c,h,w] = dy[n,c] / (H*W)
func GlobalAvgPoolBackward(s *engine.Sequence, dx, dy *engine.Tensor) {
	const op = "global avg pool backward"
	_, hw, ok := planes(s, op, "dx", dx, "dy", dy)
	if !ok || splitBatch(s, op, func(part batchPart, _ int) { GlobalAvgPoolBackward(s, part(dx), part(dy)) }, dx, dy) {
		return
	}
	n := dx.Len()
	scale := 1 / float32(hw)
	if hw%4 == 0 {
		k := s.Kernel("global_avg_pool_backward_vec4", seLocal)
		s.Dispatch1D(k, n/4, shaders.GlobalAvgPoolBackwardVec4Push{N: uint32(n), Len: uint32(hw), Scale: scale}, dx, dy)
		return
	}
	k := s.Kernel("global_avg_pool_backward", seLocal)
	s.Dispatch1D(k, ceilDiv(n, 4), shaders.GlobalAvgPoolBackwardPush{N: uint32(n), Len: uint32(hw), Scale: scale}, dx, dy)
}

// ChannelScaleForward records the excite of squeeze-excite, y and x
// [N,C,H,W], sc [N,C] (or [N,C,1,1]):
//
//	y[n,c,h,w] = x[n,c,h,w] * sc[n,c]
func ChannelScaleForward(s *engine.Sequence, y, x, sc *engine.Tensor) {
	const op = "channel scale forward"
	_, hw, ok := planes(s, op, "x", x, "sc", sc)
	if !ok || !dtypeIs(s, op, "y", y, engine.Float32) || !wantShape(s, op, "y", y, x.Shape...) ||
		splitBatch(s, op, func(part batchPart, _ int) { ChannelScaleForward(s, part(y), part(x), part(sc)) }, y, x, sc) {
		return
	}
	channelScale(s, y, x, sc, hw)
}

// channelScale records y = x * sc[plane] with the elementwise kernel.
func channelScale(s *engine.Sequence, y, x, sc *engine.Tensor, hw int) {
	n := x.Len()
	if hw%4 == 0 {
		k := s.Kernel("channel_scale_forward_vec4", seLocal)
		s.Dispatch1D(k, n/4, shaders.ChannelScaleForwardVec4Push{N: uint32(n), Len: uint32(hw), Scale: 1}, y, x, sc)
		return
	}
	k := s.Kernel("channel_scale_forward", seLocal)
	s.Dispatch1D(k, ceilDiv(n, 4), shaders.ChannelScaleForwardPush{N: uint32(n), Len: uint32(hw), Scale: 1}, y, x, sc)
}

// ChannelScaleBackward records the gradient of ChannelScaleForward in one
// pass over dy and x. dx, dy and x are [N,C,H,W]; dsc and sc are [N,C] (or
// [N,C,1,1]). dsc sums over H*W in a fixed order (bitwise reproducible):
//
//	dx[n,c,h,w] = dy[n,c,h,w] * sc[n,c]
//	dsc[n,c]    = sum_{h,w} dy[n,c,h,w] * x[n,c,h,w]
func ChannelScaleBackward(s *engine.Sequence, dx, dsc, dy, x, sc *engine.Tensor) {
	const op = "channel scale backward"
	rows, hw, ok := planes(s, op, "x", x, "sc", sc)
	if !ok || !wantMatrix(s, op, "dsc", dsc, sc.Shape[0], sc.Shape[1]) {
		return
	}
	for _, t := range []struct {
		role string
		t    *engine.Tensor
	}{{"dx", dx}, {"dy", dy}} {
		if !dtypeIs(s, op, t.role, t.t, engine.Float32) || !wantShape(s, op, t.role, t.t, x.Shape...) {
			return
		}
	}
	if splitBatch(s, op, func(part batchPart, _ int) {
		ChannelScaleBackward(s, part(dx), part(dsc), part(dy), part(x), part(sc))
	}, dx, dsc, dy, x, sc) {
		return
	}
	lanes := rowLanes(s.Device(), ceilDiv(hw, 4))
	name := "channel_scale_backward"
	if hw%4 == 0 {
		name = "channel_scale_backward_vec4"
	}
	k := s.Kernel(name, seLocal, engine.Spec{ID: 1, Value: lanes})
	s.Dispatch1D(k, rows*int(lanes), shaders.ChannelScaleBackwardPush{Rows: uint32(rows), Len: uint32(hw), Scale: 1}, dx, dsc, dy, x, sc)
}

// linearRowTile is how many rows of the batch (forward, dx) or of the
// weight (dw) one invocation of the linear kernels computes, so that each
// weight (or input) element is fetched once per tile; it matches RT and OT in
// shaders/squeeze_excite.comp.
const linearRowTile = 4

// LinearForward records a fully connected layer (the SE FCs and the
// classifier head), y = x w^T + b, with x [N,In], w [Out,In], b [Out] or nil,
// y [N,Out] (x, w and y may also be [rows, cols, 1, 1]):
//
//	y[n,o] = b[o] + sum_i x[n,i] * w[o,i]
func LinearForward(s *engine.Sequence, y, x, w, b *engine.Tensor) {
	const op = "linear forward"
	n, in, ok := matrixShape(s, op, "x", x)
	if !ok {
		return
	}
	out, win, ok := matrixShape(s, op, "w", w)
	if !ok {
		return
	}
	if win != in {
		s.Fail(fmt.Errorf("%s: input %s does not match weight %s (In %d vs %d)", op, x, w, in, win))
		return
	}
	if !wantMatrix(s, op, "y", y, n, out) ||
		splitBatch(s, op, func(part batchPart, _ int) { LinearForward(s, part(y), part(x), w, b) }, y, x) {
		return
	}
	if b != nil && (!wantVector(s, op, "b", b, out)) {
		return
	}
	linearForwardTuned.record(s, linearCall{n: n, in: in, out: out, y: y, x: x, w: w, b: b})
}

// LinearBackward records the gradients of LinearForward (all overwritten):
//
//	dx[n,i] = sum_o dy[n,o] * w[o,i]     (skipped when dx is nil)
//	dw[o,i] = sum_n dy[n,o] * x[n,i]
//	db[o]   = sum_n dy[n,o]              (skipped when db is nil)
//
// dy is [N,Out], x [N,In], w [Out,In] (each may also be [rows, cols, 1, 1]).
func LinearBackward(s *engine.Sequence, dx, dw, db, dy, x, w *engine.Tensor) {
	const op = "linear backward"
	n, in, ok := matrixShape(s, op, "x", x)
	if !ok {
		return
	}
	out, win, ok := matrixShape(s, op, "w", w)
	if !ok {
		return
	}
	if win != in {
		s.Fail(fmt.Errorf("%s: input %s does not match weight %s (In %d vs %d)", op, x, w, in, win))
		return
	}
	if !wantMatrix(s, op, "dy", dy, n, out) || !wantMatrix(s, op, "dw", dw, out, in) {
		return
	}
	// Every check before the first dispatch: a refused call records nothing.
	if dx != nil && !wantMatrix(s, op, "dx", dx, n, in) {
		return
	}
	if db != nil && (!wantVector(s, op, "db", db, out)) {
		return
	}
	if linearBackwardSplit(s, op, dx, dw, db, dy, x, w) {
		return
	}
	linearBackwardTuned.record(s, linearBackwardCall{n: n, in: in, out: out, dx: dx, dw: dw, db: db, dy: dy, x: x, w: w})
}
