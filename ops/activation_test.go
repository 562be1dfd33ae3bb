package ops_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// TestElementwise runs every elementwise kernel on lengths that are and are
// not multiples of 4, writing into the front of a NaN-filled tensor so that
// a write past the end is caught, and compares with the float64 reference.
func TestElementwise(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const alpha = -0.625
	lengths := []int{1, 2, 3, 4, 5, 7, 8, 63, 64, 65, 1001, 4099, 2 * 24 * 63 * 63}
	lengths = append(lengths, 1+r.IntN(5000))
	for _, n := range lengths {
		a64, a32 := randSlice(r, n)
		b64, b32 := randSlice(r, n)
		for i := range a32 { // a wider range, to reach the tails of the sigmoid
			a32[i] *= 6
			a64[i] = float64(a32[i])
		}
		a := upload(t, d, "a", a32, n)
		b := upload(t, d, "b", b32, n)
		// y of the sigmoid forward, in float32 as the GPU keeps it, for the
		// sigmoid backward from y.
		sig32 := make([]float32, n)
		for i, v := range ref.SigmoidForward(a64) {
			sig32[i] = float32(v)
		}
		sig := upload(t, d, "sigmoid", sig32, n)
		// SigmoidBackward's spec is dx = dy*y*(1-y) of the y it is given:
		// the reference uses that float32 y (from x, 1-y would differ by
		// y's rounding, relatively large where y is within 1e-5 of 1).
		sigBack := make([]float64, n)
		for i, y := range sig32 {
			sigBack[i] = b64[i] * float64(y) * (1 - float64(y))
		}
		cases := []struct {
			name string
			rec  func(s *engine.Sequence, y *engine.Tensor)
			want []float64
			tol  float64
			// operands is the magnitude of what a sum adds up, when
			// it may cancel (compare's floor); 0 elsewhere.
			operands float64
		}{
			{"silu forward", func(s *engine.Sequence, y *engine.Tensor) { ops.SiLUForward(s, y, a) }, ref.SiLUForward(a64), 1e-5, 0},
			{"silu backward", func(s *engine.Sequence, y *engine.Tensor) { ops.SiLUBackward(s, y, b, a) }, ref.SiLUBackward(b64, a64), 1e-4, 0},
			{"sigmoid forward", func(s *engine.Sequence, y *engine.Tensor) { ops.SigmoidForward(s, y, a) }, ref.SigmoidForward(a64), 1e-5, 0},
			{"sigmoid backward", func(s *engine.Sequence, y *engine.Tensor) { ops.SigmoidBackward(s, y, b, sig) }, sigBack, 1e-4, 0},
			{"add", func(s *engine.Sequence, y *engine.Tensor) { ops.Add(s, y, a, b) }, ref.AddForward(a64, b64), 1e-6, sumAbs(a64, b64, 1)},
			{"add scaled", func(s *engine.Sequence, y *engine.Tensor) { ops.AddScaled(s, y, a, b, alpha) }, addScaled(a64, b64, alpha), 1e-6, sumAbs(a64, b64, alpha)},
			{"scale", func(s *engine.Sequence, y *engine.Tensor) { ops.Scale(s, y, a, alpha) }, scale(a64, alpha), 1e-6, 0},
		}
		for _, c := range cases {
			whole := poisoned(t, d, "guarded", n+67)
			y, err := whole.Slice("y", 0, n)
			if err != nil {
				t.Fatal(err)
			}
			run(t, d, func(s *engine.Sequence) { c.rec(s, y) })
			all := download(t, whole)
			what := fmt.Sprintf("%s n=%d", c.name, n)
			compareAtLeast(t, what, all[:n], c.want, c.tol, c.operands)
			for i, v := range all[n:] {
				if !math.IsNaN(v) {
					t.Fatalf("%s: value %d past the end was overwritten with %v", what, i, v)
				}
			}
		}
	}
}

func addScaled(a, b []float64, alpha float64) []float64 {
	y := make([]float64, len(a))
	for i := range a {
		y[i] = a[i] + alpha*b[i]
	}
	return y
}

// sumAbs is the largest |a[i]| + |alpha*b[i]|: the scale of a[i] + alpha*b[i]'s
// float32 rounding.
func sumAbs(a, b []float64, alpha float64) float64 {
	m := 0.0
	for i := range a {
		m = math.Max(m, math.Abs(a[i])+math.Abs(alpha*b[i]))
	}
	return m
}

func scale(x []float64, alpha float64) []float64 {
	y := make([]float64, len(x))
	for i := range x {
		y[i] = alpha * x[i]
	}
	return y
}

// TestSiLUExtremes: no NaN or overflow for large |x|.
func TestSiLUExtremes(t *testing.T) {
	d := enginetest.Open(t)
	x32 := []float32{-1e4, -200, -88, -20, 0, 20, 88, 200, 1e4, float32(math.MaxFloat32) / 2}
	x64 := make([]float64, len(x32))
	dy32 := make([]float32, len(x32))
	dy64 := make([]float64, len(x32))
	for i := range x32 {
		x64[i], dy32[i], dy64[i] = float64(x32[i]), 1, 1
	}
	x := upload(t, d, "x", x32, len(x32))
	dy := upload(t, d, "dy", dy32, len(x32))
	y := poisoned(t, d, "y", len(x32))
	dx := poisoned(t, d, "dx", len(x32))
	run(t, d, func(s *engine.Sequence) {
		ops.SiLUForward(s, y, x)
		ops.SiLUBackward(s, dx, dy, x)
	})
	gotY, gotDx := download(t, y), download(t, dx)
	wantY, wantDx := ref.SiLUForward(x64), ref.SiLUBackward(dy64, x64)
	for i := range x32 {
		if err := enginetest.WithinRel(gotY[i], wantY[i], 1e-6, 1); err != nil {
			t.Errorf("silu(%v): %v", x32[i], err)
		}
		if err := enginetest.Within(gotDx[i], wantDx[i], 1e-5); err != nil {
			t.Errorf("silu'(%v): %v", x32[i], err)
		}
	}
}

func TestElementwiseErrors(t *testing.T) {
	d := enginetest.Open(t)
	newT := func(dt engine.DType, shape ...int) *engine.Tensor {
		x, err := d.NewTensor("t", dt, shape...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(x.Free)
		return x
	}
	a, b, y := newT(engine.Float32, 10), newT(engine.Float32, 2, 5), newT(engine.Float32, 10)
	wantRecordErrors(t, d, []errorCase{
		{"length", func(s *engine.Sequence) { ops.Add(s, y, a, newT(engine.Float32, 11)) }, "add: t float32[11] has 11 values, output t float32[10] has 10: shapes must match"},
		{"alias", func(s *engine.Sequence) { ops.Add(s, a, a, b) }, "add: output t float32[10] is also an input"},
		{"dtype", func(s *engine.Sequence) { ops.SiLUForward(s, y, newT(engine.Int32, 10)) }, "silu forward: t int32[10] is int32, want float32"},
		{"nil input", func(s *engine.Sequence) { ops.SigmoidBackward(s, y, a, nil) }, "sigmoid backward: missing input tensor"},
		{"nil output", func(s *engine.Sequence) { ops.Scale(s, nil, a, 2) }, "scale: missing output tensor"},
	})
	// Same length, different shape: accepted (elementwise over values).
	s, err := d.NewSequence("shapes", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	ops.Add(s, y, a, b)
	if err := s.Finish(); err != nil {
		t.Errorf("add of [10] and [2,5]: %v", err)
	}
}
