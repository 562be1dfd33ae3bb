package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// Tile of one depthwise invocation: rows x columns of its output (forward,
// backward data) or of dy (backward weight). Mirrors ROWS and COLS in
// shaders/depthwise.comp.
const (
	depthwiseTileRows = 8
	depthwiseTileCols = 4
)

// depthwisePush is the push-constant block shared by every depthwise kernel
// (the tests check that all variants declare the same block).
type depthwisePush = shaders.DepthwiseForwardK3S1Push

// depthwiseGeometry is what the three depthwise operations derive from
// their tensors.
type depthwiseGeometry struct {
	n, c, h, w, oh, ow, k int
}

// depthwiseCheck reads the geometry of a depthwise convolution from its
// image-sized tensor (x or dx: [N,C,H,W]), its output-sized tensor (y or dy:
// [N,C,OH,OW]) and its weight-sized tensor (w or dw: [C,1,K,K]), recording
// an error in s when they disagree or the kernel size or stride is not
// supported.
func depthwiseCheck(s *engine.Sequence, op string, img, out, wt *engine.Tensor, imgRole, outRole, wRole string, stride int) (depthwiseGeometry, bool) {
	var g depthwiseGeometry
	if s.Err() != nil {
		return g, false
	}
	n, c, h, w, ok := shape4(s, op, img)
	if !ok {
		return g, false
	}
	if wt == nil || len(wt.Shape) != 4 || wt.Shape[0] != c || wt.Shape[1] != 1 || wt.Shape[2] != wt.Shape[3] {
		s.Fail(fmt.Errorf("%s: %s %v does not fit %s %v: want [%d,1,K,K]", op, wRole, wt, imgRole, img, c))
		return g, false
	}
	k := wt.Shape[2]
	if k != 3 && k != 5 {
		s.Fail(fmt.Errorf("%s: kernel size %d (%s %v) is not supported: use 3 or 5", op, k, wRole, wt))
		return g, false
	}
	if stride != 1 && stride != 2 {
		s.Fail(fmt.Errorf("%s: stride %d is not supported: use 1 or 2", op, stride))
		return g, false
	}
	g = depthwiseGeometry{n: n, c: c, h: h, w: w, oh: ConvOutSize(h, k, stride), ow: ConvOutSize(w, k, stride), k: k}
	if !wantShape(s, op, outRole, out, n, c, g.oh, g.ow) {
		return g, false
	}
	for _, t := range []*engine.Tensor{img, out, wt} {
		if t.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: %v is %s, want float32", op, t, t.DType))
			return g, false
		}
	}
	return g, true
}

// depthwiseKernel returns the kernel of one depthwise operation for kernel
// size k and stride, with a local size suited to the device: one subgroup
// on a CPU driver (where a workgroup is one SIMD loop), 64 on GPUs (and on a
// CPU driver under GPUChoicesEnv).
func depthwiseKernel(s *engine.Sequence, op string, k, stride int, ep ...*Epilogue) *engine.Kernel {
	local := depthwiseLocalOf(s.Device())
	if len(ep) == 1 && ep[0] != nil { // the fused forward
		return s.Kernel(fmt.Sprintf("depthwise_%s_k%d_s%d_bn", op, k, stride), withEpilogue([]engine.Spec{{ID: 0, Value: local}}, ep[0])...)
	}
	return s.Kernel(fmt.Sprintf("depthwise_%s_k%d_s%d", op, k, stride), engine.Spec{ID: 0, Value: local})
}

// depthwiseTilesPerInvocation is how many tiles one forward or backward-data
// invocation computes: on a CPU driver an invocation's start-up (descriptor
// and address set-up) costs about as much as a tile, so each takes several;
// a GPU wants the parallelism instead (GPUChoicesEnv: a CPU driver too).
func depthwiseTilesPerInvocation(d *engine.Device) int { return defaultsOf(d).depthwiseTiles }

// dispatchTiles records k over planes x tilesH x tilesW tiles, a few per
// invocation.
func (g depthwiseGeometry) dispatchTiles(s *engine.Sequence, k *engine.Kernel, planes, tilesH, tilesW int, args ...*engine.Tensor) {
	span := ceilDiv(planes*tilesH*tilesW, depthwiseTilesPerInvocation(s.Device()))
	p := g.push(planes, tilesH, tilesW)
	p.Span = uint32(span)
	s.Dispatch1D(k, span, p, args...)
}

// DepthwiseForward records a depthwise k x k convolution (one filter per
// channel, no bias) with stride 1 or 2 and symmetric zero padding
// p = (k-1)/2; k is 3 or 5, read from w. x is [N,C,H,W], w is [C,1,k,k], y
// is [N,C,OH,OW] with OH = (H+2p-k)/stride+1 (likewise OW). y is
// overwritten:
//
//	y[n,c,i,j] = sum_{a<k, b<k} x[n,c, i*stride+a-p, j*stride+b-p] * w[c,0,a,b]
//
// with x outside the image taken as 0 (ref.DepthwiseForward).
func DepthwiseForward(s *engine.Sequence, y, x, w *engine.Tensor, stride int) {
	depthwiseForward(s, y, x, w, stride, nil)
}

// depthwiseForward records DepthwiseForward, with the fused epilogue ep
// unless it is nil (DepthwiseForwardFused).
func depthwiseForward(s *engine.Sequence, y, x, w *engine.Tensor, stride int, ep *Epilogue) {
	const op = "depthwise forward"
	g, ok := depthwiseCheck(s, op, x, y, w, "x", "y", "w", stride)
	if !ok || splitBatch(s, op, func(part batchPart, _ int) { depthwiseForward(s, part(y), part(x), w, stride, ep.sliced(part)) }, ep.withBatchMajor(y, x)...) {
		return
	}
	tilesH, tilesW := ceilDiv(g.oh, depthwiseTileRows), ceilDiv(g.ow, depthwiseTileCols)
	k := depthwiseKernel(s, "forward", g.k, stride, ep)
	g.dispatchTiles(s, k, g.n*g.c, tilesH, tilesW, epilogueArgs(ep, y, y, x, w)...)
}

// DepthwiseBackwardData records the gradient of DepthwiseForward's loss
// with respect to its input. dx is [N,C,H,W] (its shape gives the forward
// input's size, which matters for stride 2 with odd sizes), dy is
// [N,C,OH,OW], w is [C,1,k,k]. dx is overwritten:
//
//	dx[n,c,h,v] = sum over (i,j,a,b) with i*stride+a-p = h and j*stride+b-p = v
//	              of dy[n,c,i,j] * w[c,0,a,b]
//
// (ref.DepthwiseBackwardData).
func DepthwiseBackwardData(s *engine.Sequence, dx, dy, w *engine.Tensor, stride int) {
	const op = "depthwise backward data"
	g, ok := depthwiseCheck(s, op, dx, dy, w, "dx", "dy", "w", stride)
	if !ok || splitBatch(s, op, func(part batchPart, _ int) { DepthwiseBackwardData(s, part(dx), part(dy), w, stride) }, dx, dy) {
		return
	}
	tilesH, tilesW := ceilDiv(g.h, depthwiseTileRows), ceilDiv(g.w, depthwiseTileCols)
	k := depthwiseKernel(s, "backward_data", g.k, stride)
	g.dispatchTiles(s, k, g.n*g.c, tilesH, tilesW, dx, dx, dy, w)
}

// DepthwiseBackwardWeight records the gradient of DepthwiseForward's loss
// with respect to its weight. dw is [C,1,k,k], x is the forward input
// [N,C,H,W], dy is [N,C,OH,OW]. dw is overwritten:
//
//	dw[c,0,a,b] = sum_{n,i,j} dy[n,c,i,j] * x[n,c, i*stride+a-p, j*stride+b-p]
//
// (ref.DepthwiseBackwardWeight). The sum is deterministic: one workgroup per
// channel adds its invocations' partial sums in a fixed order, so two runs
// give the same bits.
func DepthwiseBackwardWeight(s *engine.Sequence, dw, x, dy *engine.Tensor, stride int) {
	const op = "depthwise backward weight"
	g, ok := depthwiseCheck(s, op, x, dy, dw, "x", "dy", "dw", stride)
	if !ok || splitBatchSum(s, op, []*engine.Tensor{dw}, func(part batchPart, sums []*engine.Tensor) {
		DepthwiseBackwardWeight(s, sums[0], part(x), part(dy), stride)
	}, x, dy) {
		return
	}
	tilesH, tilesW := ceilDiv(g.oh, depthwiseTileRows), ceilDiv(g.ow, depthwiseTileCols)
	k := depthwiseKernel(s, "backward_weight", g.k, stride)
	if k == nil {
		return
	}
	grid, err := s.Device().FoldGroups(g.c)
	if err != nil {
		s.Fail(fmt.Errorf("%s: %d channels: %w", op, g.c, err))
		return
	}
	s.Dispatch(k, grid, g.push(g.n, tilesH, tilesW), dw, x, dy)
}

// push fills the shared push-constant block.
func (g depthwiseGeometry) push(planes, tilesH, tilesW int) *depthwisePush {
	return &depthwisePush{
		Planes: uint32(planes), C: uint32(g.c), H: uint32(g.h), W: uint32(g.w),
		OH: uint32(g.oh), OW: uint32(g.ow), TilesH: uint32(tilesH), TilesW: uint32(tilesW),
	}
}
