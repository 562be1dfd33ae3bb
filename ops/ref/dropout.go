package ref

import "fmt"

// DropoutForward is element-wise (inverted) dropout with drop probability p:
//
//	mask[i] = 1 if Uniform(seed, step, stream, i) >= p, else 0
//	y[i]    = x[i] * mask[i] / (1 - p)
//
// p is in [0,1) (p = 0 is the identity). length is the element count of x,
// checked against len(x); y is new.
func DropoutForward(x []float64, length int, p float64, seed uint64, step, stream uint32) []float64 {
	mustLen("dropout forward", "x", len(x), length)
	return dropoutApply(x, p, seed, step, stream)
}

// DropoutBackward is the gradient of DropoutForward, with the same mask
// (drawn again from the same seed, step and stream):
//
//	dx[i] = dy[i] * mask[i] / (1 - p)
//
// length is the element count of dy; dx is new.
func DropoutBackward(dy []float64, length int, p float64, seed uint64, step, stream uint32) []float64 {
	mustLen("dropout backward", "dy", len(dy), length)
	return dropoutApply(dy, p, seed, step, stream)
}

// dropoutApply multiplies v[i] by mask[i]/(1-p).
func dropoutApply(v []float64, p float64, seed uint64, step, stream uint32) []float64 {
	if !(p >= 0 && p < 1) {
		panic(fmt.Sprintf("ref: dropout: drop probability %v: want a value in [0,1)", p))
	}
	out := make([]float64, len(v))
	for i := range v {
		if Uniform(seed, step, stream, uint32(i)) >= p {
			out[i] = v[i] / (1 - p)
		}
	}
	return out
}
