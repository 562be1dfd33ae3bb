package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// linearShapes reads x [N,In] and w [Out,In] (each may be [rows, cols, 1,
// 1]; xRole and wRole name them in errors) and checks that they agree.
func linearShapes(s *engine.Sequence, op, xRole string, x *engine.Tensor, wRole string, w *engine.Tensor) (n, in, out int, ok bool) {
	if s.Err() != nil {
		return 0, 0, 0, false
	}
	n, in, ok = matrixShape(s, op, xRole, x)
	if !ok {
		return 0, 0, 0, false
	}
	out, win, ok := matrixShape(s, op, wRole, w)
	if !ok {
		return 0, 0, 0, false
	}
	if win != in {
		s.Fail(fmt.Errorf("%s: input %s does not match weight %s (In %d vs %d)", op, x, w, in, win))
		return 0, 0, 0, false
	}
	return n, in, out, true
}

// LinearForwardGEMM records the same layer as LinearForward,
//
//	y[n,o] = b[o] + sum_i x[n,i] * w[o,i],
//
// with the shared-memory GEMM family and the given tile (one of GEMMTiles,
// possibly WithSplitK; scratch holds GEMMScratchLen(tile, y.Len()) floats,
// nil without a split). x is [N,In], w [Out,In], b [Out] or nil, y [N,Out].
func LinearForwardGEMM(s *engine.Sequence, y, x, w, b *engine.Tensor, tile GEMMTile, scratch *engine.Tensor) {
	const op = "linear forward (GEMM)"
	n, in, out, ok := linearShapes(s, op, "x", x, "w", w)
	if !ok || !wantMatrix(s, op, "y", y, n, out) {
		return
	}
	if b != nil && (!wantVector(s, op, "b", b, out)) {
		return
	}
	// C = y (N x Out), A = x (N x In), B(i, o) = w[o,i].
	gemmProblem{m: n, n: out, k: in, am: in, akr: 1, bkr: 1, bjr: in, cm: out, cjr: 1}.
		record(s, op, tile, y, x, w, b, scratch)
}

// LinearBackwardDataGEMM records dx, the input gradient of LinearForward,
//
//	dx[n,i] = sum_o dy[n,o] * w[o,i]   (overwritten),
//
// with the GEMM family (tile and scratch as in LinearForwardGEMM, scratch
// sized for dx). dy is [N,Out], w [Out,In], dx [N,In].
func LinearBackwardDataGEMM(s *engine.Sequence, dx, dy, w *engine.Tensor, tile GEMMTile, scratch *engine.Tensor) {
	const op = "linear backward data (GEMM)"
	n, in, out, ok := linearShapes(s, op, "dx", dx, "w", w)
	if !ok || !wantMatrix(s, op, "dy", dy, n, out) {
		return
	}
	// C = dx (N x In), A = dy (N x Out), B(o, i) = w[o,i].
	gemmProblem{m: n, n: in, k: out, am: out, akr: 1, bkr: in, bjr: 1, cm: in, cjr: 1}.
		record(s, op, tile, dx, dy, w, nil, scratch)
}

// LinearBackwardWeightGEMM records dw, the weight gradient of LinearForward,
//
//	dw[o,i] = sum_n dy[n,o] * x[n,i]   (overwritten),
//
// and, when db is not nil, db[o] = sum_n dy[n,o] (the kernel LinearBackward
// uses), with the GEMM family (tile and scratch as in LinearForwardGEMM,
// scratch sized for dw). dy is [N,Out], x [N,In], dw [Out,In], db [Out].
func LinearBackwardWeightGEMM(s *engine.Sequence, dw, db, dy, x *engine.Tensor, tile GEMMTile, scratch *engine.Tensor) {
	const op = "linear backward weight (GEMM)"
	n, in, out, ok := linearShapes(s, op, "x", x, "dw", dw)
	if !ok || !wantMatrix(s, op, "dy", dy, n, out) {
		return
	}
	if db != nil && (!wantVector(s, op, "db", db, out)) {
		return
	}
	// C = dw (Out x In), A(o, n) = dy[n,o], B(n, i) = x[n,i].
	gemmProblem{m: out, n: in, k: n, am: 1, akr: out, bkr: in, bjr: 1, cm: in, cjr: 1}.
		record(s, op, tile, dw, dy, x, nil, scratch)
	if db != nil {
		s.Dispatch1D(s.Kernel("linear_backward_bias", seLocal), out, shaders.LinearBackwardBiasPush{N: uint32(n), OutFeatures: uint32(out)}, db, dy)
	}
}
