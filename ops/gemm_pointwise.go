package ops

import (
	"github.com/effv2vk/effv2vk/engine"
)

// PointwiseForwardGEMM records the same 1x1 convolution as PointwiseForward,
//
//	y[n,o,h,w] = sum_c w[o,c,0,0] * x[n,c,h,w],
//
// as one GEMM over the batch's pixels (the columns are n*H*W + p) with the
// shared-memory GEMM family and the given tile (one of GEMMTiles, possibly
// WithSplitK; scratch holds GEMMScratchLen(tile, y.Len()) floats, nil
// without a split). x is [N,C,H,W], w [OC,C,1,1], y [N,OC,H,W].
func PointwiseForwardGEMM(s *engine.Sequence, y, x, w *engine.Tensor, tile GEMMTile, scratch *engine.Tensor) {
	const op = "pointwise forward (GEMM)"
	n, c, oc, hw, ok := pointwiseCheck(s, op, x, y, w, "x", "y", "w")
	if !ok {
		return
	}
	// C(o, j) = y[n,o,p], A = W (OC x C), B(c, j) = x[n,c,p], j = n*HW + p.
	gemmProblem{m: oc, n: n * hw, k: c, jdiv: hw,
		am: c, akr: 1,
		bkr: hw, bjq: c * hw, bjr: 1,
		cm: hw, cjq: oc * hw, cjr: 1,
	}.record(s, op, tile, y, w, x, nil, scratch)
}

// PointwiseBackwardDataGEMM records the input gradient of a 1x1
// convolution, as PointwiseBackwardData,
//
//	dx[n,c,h,w] = sum_o w[o,c,0,0] * dy[n,o,h,w]   (overwritten),
//
// with the GEMM family (tile and scratch as in PointwiseForwardGEMM, scratch
// sized for dx). dy is [N,OC,H,W], w [OC,C,1,1], dx [N,C,H,W].
func PointwiseBackwardDataGEMM(s *engine.Sequence, dx, dy, w *engine.Tensor, tile GEMMTile, scratch *engine.Tensor) {
	const op = "pointwise backward data (GEMM)"
	n, c, oc, hw, ok := pointwiseCheck(s, op, dx, dy, w, "dx", "dy", "w")
	if !ok {
		return
	}
	// C(c, j) = dx[n,c,p], A(c, o) = w[o,c], B(o, j) = dy[n,o,p].
	gemmProblem{m: c, n: n * hw, k: oc, jdiv: hw,
		am: 1, akr: c,
		bkr: hw, bjq: oc * hw, bjr: 1,
		cm: hw, cjq: c * hw, cjr: 1,
	}.record(s, op, tile, dx, w, dy, nil, scratch)
}

// PointwiseBackwardWeightGEMM records the weight gradient of a 1x1
// convolution, as PointwiseBackwardWeight,
//
//	dw[o,c,0,0] = sum_{n,h,w} dy[n,o,h,w] * x[n,c,h,w]   (overwritten),
//
// as a GEMM whose reduction runs over the batch's pixels (k = n*HW + p): the
// case split-K is for (WithSplitK; scratch sized for dw, GEMMScratchLen).
// x is [N,C,H,W], dy [N,OC,H,W], dw [OC,C,1,1].
func PointwiseBackwardWeightGEMM(s *engine.Sequence, dw, x, dy *engine.Tensor, tile GEMMTile, scratch *engine.Tensor) {
	const op = "pointwise backward weight (GEMM)"
	n, c, oc, hw, ok := pointwiseCheck(s, op, x, dy, dw, "x", "dy", "dw")
	if !ok {
		return
	}
	// C = dW (OC x C), A(o, k) = dy[n,o,p], B(k, c) = x[n,c,p].
	gemmProblem{m: oc, n: c, k: n * hw, kdiv: hw,
		am: hw, akq: oc * hw, akr: 1,
		bkq: c * hw, bkr: 1, bjr: hw,
		cm: c, cjr: 1,
	}.record(s, op, tile, dw, dy, x, nil, scratch)
}
