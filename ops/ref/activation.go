package ref

import "math"

// sigmoid is 1/(1+exp(-x)), evaluated without overflow for large |x|.
func sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// SigmoidForward is y[i] = 1 / (1 + exp(-x[i])); y is new.
func SigmoidForward(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = sigmoid(v)
	}
	return y
}

// SigmoidBackward is the gradient of SigmoidForward, from the forward input
// x: dx[i] = dy[i] * sig(x[i]) * (1 - sig(x[i])). dx is new.
func SigmoidBackward(dy, x []float64) []float64 {
	mustLen("sigmoid backward", "dy", len(dy), len(x))
	dx := make([]float64, len(x))
	for i, v := range x {
		s := sigmoid(v)
		dx[i] = dy[i] * s * (1 - s)
	}
	return dx
}

// SiLUForward is y[i] = x[i] * sig(x[i]) (also called swish); y is new.
func SiLUForward(x []float64) []float64 {
	y := make([]float64, len(x))
	for i, v := range x {
		y[i] = v * sigmoid(v)
	}
	return y
}

// SiLUBackward is the gradient of SiLUForward, from the forward input x:
//
//	dx[i] = dy[i] * sig(x[i]) * (1 + x[i] * (1 - sig(x[i])))
//
// dx is new.
func SiLUBackward(dy, x []float64) []float64 {
	mustLen("silu backward", "dy", len(dy), len(x))
	dx := make([]float64, len(x))
	for i, v := range x {
		s := sigmoid(v)
		dx[i] = dy[i] * s * (1 + v*(1-s))
	}
	return dx
}
