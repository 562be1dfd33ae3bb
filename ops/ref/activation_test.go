package ref

import (
	"math"
	"testing"
)

func TestSigmoidAndSiLUValues(t *testing.T) {
	x := []float64{0, 1, -1, 40, -40, -800, 800}
	sig := SigmoidForward(x)
	silu := SiLUForward(x)
	for i, v := range x {
		want := 1 / (1 + math.Exp(-v))
		if !closeTo(sig[i], want, 1e-15, 0) || math.IsNaN(sig[i]) {
			t.Errorf("sigmoid(%v) = %v, want %v", v, sig[i], want)
		}
		if !closeTo(silu[i], v*want, 1e-15, 0) || math.IsNaN(silu[i]) {
			t.Errorf("silu(%v) = %v, want %v", v, silu[i], v*want)
		}
	}
}

func TestSigmoidAndSiLUGradients(t *testing.T) {
	rng := newRand(51)
	x := randSlice(rng, 37)
	for i := range x {
		x[i] *= 6
	}
	r := randSlice(rng, len(x))
	checkGradient(t, "sigmoid dx", x, SigmoidBackward(r, x), func() float64 { return dot(r, SigmoidForward(x)) })
	checkGradient(t, "silu dx", x, SiLUBackward(r, x), func() float64 { return dot(r, SiLUForward(x)) })
}
