package data

import (
	"math"
	"math/rand/v2"
)

// SampleGamma draws from Gamma(shape, 1) with the Marsaglia-Tsang method
// ("A simple method for generating gamma variables", 2000). For shape < 1 it
// draws Gamma(shape+1) and scales by U^(1/shape). shape must be positive.
func SampleGamma(rng *rand.Rand, shape float64) float64 {
	if shape < 1 {
		u := rng.Float64()
		for u == 0 {
			u = rng.Float64()
		}
		return SampleGamma(rng, shape+1) * math.Pow(u, 1/shape)
	}
	d := shape - 1.0/3.0
	c := 1 / math.Sqrt(9*d)
	for {
		x := rng.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := rng.Float64()
		if u < 1-0.0331*x*x*x*x {
			return d * v
		}
		if u > 0 && math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}

// SampleBeta draws from Beta(a, b) as X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b).
func SampleBeta(rng *rand.Rand, a, b float64) float64 {
	x := SampleGamma(rng, a)
	y := SampleGamma(rng, b)
	if x+y == 0 {
		return 0.5 // both underflowed; only possible for tiny shapes
	}
	return x / (x + y)
}
