package optim_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// testRand is enginetest.Rand: a generator with a logged seed.
func testRand(t *testing.T) *rand.Rand { return enginetest.Rand(t) }

// normals returns n normal float32 values.
func normals(r *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

// widen converts float32 values to float64 exactly.
func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// newTensor allocates a float32 tensor holding v, freed when t ends.
func newTensor(t *testing.T, d *engine.Device, name string, v []float32) *engine.Tensor {
	t.Helper()
	x, err := d.NewTensor(name, engine.Float32, len(v))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Free)
	if err := x.Upload(v); err != nil {
		t.Fatal(err)
	}
	return x
}

// download returns a tensor's values as float64.
func download(t *testing.T, x *engine.Tensor) []float64 {
	t.Helper()
	v, err := x.Floats()
	if err != nil {
		t.Fatal(err)
	}
	return widen(v)
}

// compare fails t when got and want differ by more than tol relative to the
// largest magnitude of want (1 when want is all zero), or got holds a NaN
// or an infinity.
func compare(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if err := closeTo(got, want, tol); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func closeTo(got, want []float64, tol float64) error { return enginetest.CloseTo(got, want, tol) }

// compareAtLeast is compare with errors measured relative to at least
// scale (enginetest.CloseToAtLeast).
func compareAtLeast(t *testing.T, what string, got, want []float64, tol, scale float64) {
	t.Helper()
	if err := enginetest.CloseToAtLeast(got, want, tol, scale); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// maxAbs is the largest magnitude in v (0 when v is empty).
func maxAbs(v []float64) float64 {
	m := 0.0
	for _, x := range v {
		m = math.Max(m, math.Abs(x))
	}
	return m
}

// sameBits fails t unless got holds exactly the float32 values want.
func sameBits(t *testing.T, what string, got []float64, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: length %d, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(float32(got[i])) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d is %v, want exactly %v", what, i, got[i], want[i])
		}
	}
}
