package ref

import "fmt"

// DropPathForward is stochastic depth on a residual branch: each sample n is
// kept whole or zeroed, and kept samples are scaled up by 1/keep:
//
//	m[n] = 1 if Uniform(seed, step, stream, n) < keep, else 0
//	y[n,c,h,w] = x[n,c,h,w] * m[n] / keep
//
// keep is the survival probability, in (0,1] (keep = 1 keeps every sample
// unscaled). x is [N,C,H,W] (xs); y is new.
func DropPathForward(x []float64, xs Shape4, keep float64, seed uint64, step, stream uint32) []float64 {
	mustLen("drop path forward", "x", len(x), xs.Len())
	return dropPathApply(x, xs, keep, seed, step, stream)
}

// DropPathBackward is the gradient of DropPathForward, with the same mask
// (drawn again from the same seed, step and stream):
//
//	dx[n,c,h,w] = dy[n,c,h,w] * m[n] / keep
//
// dy is [N,C,H,W] (xs); dx is new.
func DropPathBackward(dy []float64, xs Shape4, keep float64, seed uint64, step, stream uint32) []float64 {
	mustLen("drop path backward", "dy", len(dy), xs.Len())
	return dropPathApply(dy, xs, keep, seed, step, stream)
}

// DropPathMask is the per-sample mask of DropPathForward: m[n] is true when
// Uniform(seed, step, stream, n) < keep.
func DropPathMask(batch int, keep float64, seed uint64, step, stream uint32) []bool {
	m := make([]bool, batch)
	for n := range batch {
		m[n] = Uniform(seed, step, stream, uint32(n)) < keep
	}
	return m
}

// dropPathApply multiplies each sample of v by m[n]/keep.
func dropPathApply(v []float64, xs Shape4, keep float64, seed uint64, step, stream uint32) []float64 {
	if !(keep > 0 && keep <= 1) {
		panic(fmt.Sprintf("ref: drop path: keep probability %v: want a value in (0,1]", keep))
	}
	mask := DropPathMask(xs.N, keep, seed, step, stream)
	per := xs.C * xs.H * xs.W
	out := make([]float64, len(v))
	for n := range xs.N {
		if !mask[n] {
			continue
		}
		for i := n * per; i < (n+1)*per; i++ {
			out[i] = v[i] / keep
		}
	}
	return out
}
