package data

import (
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
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
			if err := enginetest.Between(v, 0, math.MaxFloat64); err != nil {
				t.Fatalf("shape %g: draw: %v", shape, err)
			}
			return v
		})
		// Gamma(k, 1): mean k, variance k. Allow 5 standard errors.
		if err := enginetest.Within(mean, shape, 5*math.Sqrt(shape/n)); err != nil {
			t.Fatalf("shape %g: mean: %v", shape, err)
		}
		if err := enginetest.WithinRel(variance, shape, 0.1, 0); err != nil {
			t.Fatalf("shape %g: variance: %v", shape, err)
		}
	}
}

func TestSampleBetaMoments(t *testing.T) {
	const n = 40000
	for _, alpha := range []float64{0.2, 0.4, 1, 3} {
		rng := newRand(12, 0, 0, streamMix)
		mean, variance := meanVar(n, func() float64 {
			v := SampleBeta(rng, alpha, alpha)
			if err := enginetest.Between(v, 0, 1); err != nil {
				t.Fatalf("alpha %g: draw: %v", alpha, err)
			}
			return v
		})
		wantVar := 1 / (4 * (2*alpha + 1)) // Beta(a, a)
		if err := enginetest.Within(mean, 0.5, 0.01); err != nil {
			t.Fatalf("alpha %g: mean: %v", alpha, err)
		}
		if err := enginetest.WithinRel(variance, wantVar, 0.05, 0); err != nil {
			t.Fatalf("alpha %g: variance: %v", alpha, err)
		}
	}
}
