package ops

import (
	"github.com/effv2vk/effv2vk/engine"
)

// Conv2DForwardGEMM records the same convolution as Conv2DForward,
//
//	y[n,o,i,j] = sum_{c<C, a<k, b<k} x[n,c, i*s+a-p, j*s+b-p] * w[o,c,a,b],
//
// as an implicit GEMM with the shared-memory GEMM family: y (OC x N*OH*OW)
// = W (OC x C*k*k) * im2col(x), the im2col matrix gathered on the fly, never
// stored. tile is one of GEMMTiles (possibly WithSplitK; scratch holds
// GEMMScratchLen(tile, y.Len()) floats, nil without a split). Shapes,
// stride and padding as Conv2DForward.
func Conv2DForwardGEMM(s *engine.Sequence, y, x, w *engine.Tensor, stride int, tile GEMMTile, scratch *engine.Tensor) {
	const op = "conv2d forward (GEMM)"
	g, ok := conv2dCheck(s, op, x, y, w, "x", "y", "w", stride)
	if !ok {
		return
	}
	kk, ohw := g.k*g.k, g.oh*g.ow
	gemmProblem{m: g.oc, n: g.n * ohw, k: g.c * kk, jdiv: ohw,
		am: g.c * kk, akr: 1,
		cm: ohw, cjq: g.oc * ohw, cjr: 1,
		conv: gemmConv{mode: gemmConvForward, ks: g.k, stride: g.stride, ch: g.c, h: g.h, w: g.w, oh: g.oh, ow: g.ow},
	}.record(s, op, tile, y, w, x, nil, scratch)
}

// Conv2DBackwardDataGEMM records the input gradient of Conv2DForward, as
// Conv2DBackwardData,
//
//	dx[n,c,h,w] = sum_{o, a, b: h = i*s+a-p, w = j*s+b-p} dy[n,o,i,j] * w[o,c,a,b]
//
// (overwritten), as an implicit GEMM: dx (C x N*H*W) = W^T (C x OC*k*k)
// times dy gathered at the output pixels each input pixel feeds. Tile and
// scratch as in Conv2DForwardGEMM, scratch sized for dx.
func Conv2DBackwardDataGEMM(s *engine.Sequence, dx, dy, w *engine.Tensor, stride int, tile GEMMTile, scratch *engine.Tensor) {
	const op = "conv2d backward data (GEMM)"
	g, ok := conv2dCheck(s, op, dx, dy, w, "dx", "dy", "w", stride)
	if !ok {
		return
	}
	kk, hw := g.k*g.k, g.h*g.w
	// A(c, (o,r)) = w[o,c,r]: k = o*kk + r.
	gemmProblem{m: g.c, n: g.n * hw, k: g.oc * kk, kdiv: kk, jdiv: hw,
		am: kk, akq: g.c * kk, akr: 1,
		cm: hw, cjq: g.c * hw, cjr: 1,
		conv: gemmConv{mode: gemmConvData, ks: g.k, stride: g.stride, ch: g.oc, h: g.h, w: g.w, oh: g.oh, ow: g.ow},
	}.record(s, op, tile, dx, w, dy, nil, scratch)
}

// Conv2DBackwardWeightGEMM records the weight gradient of Conv2DForward,
// as Conv2DBackwardWeight,
//
//	dw[o,c,a,b] = sum_{n,i,j} dy[n,o,i,j] * x[n,c, i*s+a-p, j*s+b-p]
//
// (overwritten), as an implicit GEMM whose reduction runs over the batch's
// output pixels: dW (OC x C*k*k) = dy (OC x N*OH*OW) * im2col(x)^T, the
// case split-K is for (WithSplitK; scratch sized for dw, GEMMScratchLen).
func Conv2DBackwardWeightGEMM(s *engine.Sequence, dw, x, dy *engine.Tensor, stride int, tile GEMMTile, scratch *engine.Tensor) {
	const op = "conv2d backward weight (GEMM)"
	g, ok := conv2dCheck(s, op, x, dy, dw, "x", "dy", "dw", stride)
	if !ok {
		return
	}
	kk, ohw := g.k*g.k, g.oh*g.ow
	// A(o, (n,q)) = dy[n,o,q]: k = n*ohw + q.
	gemmProblem{m: g.oc, n: g.c * kk, k: g.n * ohw, kdiv: ohw,
		am: ohw, akq: g.oc * ohw, akr: 1,
		cm: g.c * kk, cjr: 1,
		conv: gemmConv{mode: gemmConvWeight, ks: g.k, stride: g.stride, ch: g.c, h: g.h, w: g.w, oh: g.oh, ow: g.ow},
	}.record(s, op, tile, dw, dy, x, nil, scratch)
}
