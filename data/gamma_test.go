package data

import (
	"math"
	"testing"
)

// meanVar returns the sample mean and variance of n draws.
func meanVar(n int, draw func() float64) (float64, float64) {
	sum, sq := 0.0, 0.0
	for i := 0; i < n; i++ {
		v := draw()
		sum += v
		sq += v * v
	}
	mean := sum / float64(n)
	return mean, sq/float64(n) - mean*mean
}

func TestSampleGammaMoments(t *testing.T) {
	const n = 40000
	for _, shape := range []float64{0.2, 0.5, 1, 2.5, 9} {
		rng := newRand(11, 0, 0, streamMix)
		mean, variance := meanVar(n, func() float64 {
			v := SampleGamma(rng, shape)
			if v < 0 || math.IsNaN(v) {
				t.Fatalf("shape %g: draw %g", shape, v)
			}
			return v
		})
		// Gamma(k, 1): mean k, variance k. Allow 5 standard errors.
		if se := math.Sqrt(shape / n); math.Abs(mean-shape) > 5*se {
			t.Fatalf("shape %g: mean %g, want %g +- %g", shape, mean, shape, 5*se)
		}
		if math.Abs(variance-shape)/shape > 0.1 {
			t.Fatalf("shape %g: variance %g, want %g", shape, variance, shape)
		}
	}
}

func TestSampleBetaMoments(t *testing.T) {
	const n = 40000
	for _, alpha := range []float64{0.2, 0.4, 1, 3} {
		rng := newRand(12, 0, 0, streamMix)
		mean, variance := meanVar(n, func() float64 {
			v := SampleBeta(rng, alpha, alpha)
			if v < 0 || v > 1 {
				t.Fatalf("alpha %g: draw %g outside [0, 1]", alpha, v)
			}
			return v
		})
		wantVar := 1 / (4 * (2*alpha + 1)) // Beta(a, a)
		if math.Abs(mean-0.5) > 0.01 || math.Abs(variance-wantVar)/wantVar > 0.05 {
			t.Fatalf("alpha %g: mean %g variance %g, want 0.5 and %g", alpha, mean, variance, wantVar)
		}
	}
}
