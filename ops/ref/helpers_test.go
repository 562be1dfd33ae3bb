package ref

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// newRand is the tests' deterministic source; each test passes its own seed.
func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, 0x5eed)) }

// randSlice is n values uniform in [-1,1).
func randSlice(rng *rand.Rand, n int) []float64 {
	s := make([]float64, n)
	for i := range s {
		s[i] = 2*rng.Float64() - 1
	}
	return s
}

// dot is sum_i a[i]*b[i]; tests use it to turn a tensor output into a scalar
// loss L = dot(r, y), whose gradient with respect to y is r.
func dot(a, b []float64) float64 {
	if len(a) != len(b) {
		panic("dot: length mismatch")
	}
	s := 0.0
	for i := range a {
		s += a[i] * b[i]
	}
	return s
}

// closeTo reports whether got is within rel of want, relative to the larger
// magnitude, with floor guarding values near zero (enginetest.Within: a NaN
// or an infinity is never close).
func closeTo(got, want, rel, floor float64) bool {
	return enginetest.Within(got, want, rel*math.Max(math.Abs(got), math.Abs(want))+floor) == nil
}

// assertClose fails the test at the first element of got that is not within
// rel (relative) of want.
func assertClose(t *testing.T, name string, got, want []float64, rel float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d elements, want %d", name, len(got), len(want))
	}
	for i := range got {
		if !closeTo(got[i], want[i], rel, 1e-12) {
			t.Fatalf("%s[%d] = %.15g, want %.15g", name, i, got[i], want[i])
		}
	}
}

// checkGradient compares analytic, the claimed gradient of loss with respect
// to every element of x, with the central difference
// (loss(x+h e_i) - loss(x-h e_i)) / 2h. loss must read x, which is perturbed
// in place and restored.
func checkGradient(t *testing.T, name string, x, analytic []float64, loss func() float64) {
	t.Helper()
	const h = 1e-5
	if len(analytic) != len(x) {
		t.Fatalf("%s: gradient has %d elements, want %d", name, len(analytic), len(x))
	}
	for i := range x {
		orig := x[i]
		x[i] = orig + h
		up := loss()
		x[i] = orig - h
		down := loss()
		x[i] = orig
		numeric := (up - down) / (2 * h)
		if !closeTo(analytic[i], numeric, 1e-6, 1e-8) {
			t.Fatalf("%s[%d]: analytic %.12g, central difference %.12g", name, i, analytic[i], numeric)
		}
	}
}
