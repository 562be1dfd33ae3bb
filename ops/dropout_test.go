package ops_test

import (
	"math"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// rngState allocates an RNG state tensor set to seed and step.
func rngState(t *testing.T, d *engine.Device, seed uint64, step uint32) *engine.Tensor {
	t.Helper()
	rng, err := ops.NewRNGState(d, seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rng.Free)
	if err := ops.SetRNGState(rng, seed, step); err != nil {
		t.Fatal(err)
	}
	return rng
}

// TestPhiloxMatchesReference generates uniforms on the device and compares
// them with ref.Uniform bit for bit, for seeds whose high word matters,
// several steps and streams, changing the step between replays of one
// recording.
func TestPhiloxMatchesReference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const n = 4099 // not a multiple of 4
	seed := r.Uint64()
	rng := rngState(t, d, seed, 0)
	y := poisoned(t, d, "u", n)
	const stream = 7
	s, err := d.NewSequence("uniforms", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	ops.RandomUniform(s, y, rng, stream)
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	for _, step := range []uint32{0, 1, 12345, math.MaxUint32} {
		if err := ops.SetRNGState(rng, seed, step); err != nil {
			t.Fatal(err)
		}
		if err := d.Run(s); err != nil {
			t.Fatal(err)
		}
		got, err := y.Floats()
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range got {
			want := float32(ref.Uniform(seed, step, stream, uint32(i)))
			if math.Float32bits(g) != math.Float32bits(want) {
				t.Fatalf("seed %#x step %d index %d: device %v (%#x), reference %v (%#x)", seed, step, i, g, math.Float32bits(g), want, math.Float32bits(want))
			}
		}
	}
}

// TestDropPath covers the scalar (per 75, 45), vec4 (per 12) and, on CPU
// drivers with shaderInt64, _u64 (per 1536) kernels.
func TestDropPath(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, xs := range []ref.Shape4{{N: 1, C: 3, H: 5, W: 5}, {N: 7, C: 3, H: 3, W: 5}, {N: 3, C: 1, H: 2, W: 6}, {N: 16, C: 24, H: 8, W: 8}} {
		t.Run(xs.String(), func(t *testing.T) {
			const keep, stream = float32(0.8), 3
			seed, step := r.Uint64(), r.Uint32()
			rng := rngState(t, d, seed, step)
			x64, x32 := randSlice(r, xs.Len())
			x := upload(t, d, "x", x32, xs.N, xs.C, xs.H, xs.W)
			y := poisoned(t, d, "y", xs.N, xs.C, xs.H, xs.W)
			dx := poisoned(t, d, "dx", xs.N, xs.C, xs.H, xs.W)
			run(t, d, func(s *engine.Sequence) {
				ops.DropPathForward(s, y, x, rng, keep, stream)
				ops.DropPathBackward(s, dx, x, rng, keep, stream)
			})
			compare(t, "forward", download(t, y), ref.DropPathForward(x64, xs, float64(keep), seed, step, stream), 1e-5)
			compare(t, "backward", download(t, dx), ref.DropPathBackward(x64, xs, float64(keep), seed, step, stream), 1e-4)
		})
	}
}

func TestDropout(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, shape := range [][]int{{1, 1}, {3, 7}, {8, 1280}} {
		n := shape[0] * shape[1]
		const p, stream = float32(0.3), 11
		seed, step := r.Uint64(), r.Uint32()
		rng := rngState(t, d, seed, step)
		x64, x32 := randSlice(r, n)
		x := upload(t, d, "x", x32, shape...)
		y := poisoned(t, d, "y", shape...)
		dx := poisoned(t, d, "dx", shape...)
		run(t, d, func(s *engine.Sequence) {
			ops.DropoutForward(s, y, x, rng, p, stream)
			ops.DropoutBackward(s, dx, x, rng, p, stream)
		})
		compare(t, "forward", download(t, y), ref.DropoutForward(x64, n, float64(p), seed, step, stream), 1e-5)
		compare(t, "backward", download(t, dx), ref.DropoutBackward(x64, n, float64(p), seed, step, stream), 1e-4)
	}
}

// TestMaskStatistics checks the kept fraction of dropout and drop path on
// ones against the binomial expectation (5 sigma), that kept values are
// scaled by the inverse keep probability, that different streams and steps
// give different masks, and that p = 0 / keep = 1 are the identity.
func TestMaskStatistics(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const n = 1 << 16
	ones := make([]float32, n)
	for i := range ones {
		ones[i] = 1
	}
	x := upload(t, d, "ones", ones, 256, 256)
	x4 := upload(t, d, "ones4", ones, n, 1, 1, 1) // one sample per element for drop path
	rng := rngState(t, d, r.Uint64(), r.Uint32())
	for _, p := range []float32{0, 0.1, 0.5, 0.9} {
		a, b, c := poisoned(t, d, "a", 256, 256), poisoned(t, d, "b", 256, 256), poisoned(t, d, "c", n, 1, 1, 1)
		run(t, d, func(s *engine.Sequence) {
			ops.DropoutForward(s, a, x, rng, p, 1)
			ops.DropoutForward(s, b, x, rng, p, 2)
			ops.DropPathForward(s, c, x4, rng, 1-p, 1)
		})
		for name, got := range map[string][]float64{"dropout": download(t, a), "drop path": download(t, c)} {
			kept := 0
			for i, v := range got {
				switch {
				case v == 0:
				case math.Abs(v-1/float64(1-p)) < 1e-6:
					kept++
				default:
					t.Fatalf("%s p=%v: element %d is %v, want 0 or %v", name, p, i, v, 1/(1-p))
				}
			}
			mean, sd := float64(n)*float64(1-p), math.Sqrt(float64(n)*float64(p)*float64(1-p))
			if math.Abs(float64(kept)-mean) > 5*sd+0.5 {
				t.Errorf("%s p=%v: kept %d of %d, expected %.0f ± %.0f", name, p, kept, n, mean, 5*sd)
			}
		}
		if p > 0 {
			va, vb := download(t, a), download(t, b)
			same := 0
			for i := range va {
				if va[i] == vb[i] {
					same++
				}
			}
			if same == n {
				t.Errorf("p=%v: streams 1 and 2 gave the same mask", p)
			}
		}
	}
}

// TestDropoutSettingsErrors makes each check of the random ops fail alone:
// output and input are distinct tensors of the right shapes, so only the
// setting under test is wrong, and the error must name it.
func TestDropoutSettingsErrors(t *testing.T) {
	d := enginetest.Open(t)
	x, y := poisoned(t, d, "x", 2, 3, 4, 4), poisoned(t, d, "y", 2, 3, 4, 4)
	rng := rngState(t, d, 1, 0)
	floatRNG := poisoned(t, d, "float rng", 4)
	shortRNG := newTensor(t, d, engine.Uint32, 3)
	ints := newTensor(t, d, engine.Int32, 2, 3, 4, 4)
	nan := float32(math.NaN())
	wantRecordErrors(t, d, []errorCase{
		{"keep 0", func(s *engine.Sequence) { ops.DropPathForward(s, y, x, rng, 0, 0) }, "drop path forward: keep probability 0:"},
		{"keep 1.5", func(s *engine.Sequence) { ops.DropPathBackward(s, y, x, rng, 1.5, 0) }, "drop path backward: keep probability 1.5:"},
		{"keep NaN", func(s *engine.Sequence) { ops.DropPathForward(s, y, x, rng, nan, 0) }, "keep probability NaN"},
		{"drop path int x", func(s *engine.Sequence) { ops.DropPathForward(s, y, ints, rng, 0.5, 0) }, "drop path forward: x t int32[2 3 4 4] must hold float32"},
		{"drop path int y", func(s *engine.Sequence) { ops.DropPathForward(s, ints, x, rng, 0.5, 0) }, "drop path forward: y t"},
		{"drop path float rng", func(s *engine.Sequence) { ops.DropPathForward(s, y, x, floatRNG, 0.5, 0) }, "drop path forward: rng state float rng"},
		{"drop path short rng", func(s *engine.Sequence) { ops.DropPathForward(s, y, x, shortRNG, 0.5, 0) }, "drop path forward: rng state t uint32[3] does not match shape [4]"},
		{"drop path 2-D x", func(s *engine.Sequence) {
			ops.DropPathForward(s, poisoned(t, d, "y2", 2, 48), poisoned(t, d, "x2", 2, 48), rng, 0.5, 0)
		}, "must be 4-D"},
		{"drop path y shape", func(s *engine.Sequence) { ops.DropPathForward(s, poisoned(t, d, "y5", 2, 3, 4, 5), x, rng, 0.5, 0) }, "drop path forward: y y5"},
		{"p 1", func(s *engine.Sequence) { ops.DropoutForward(s, y, x, rng, 1, 0) }, "dropout forward: drop probability 1:"},
		{"p -0.25", func(s *engine.Sequence) { ops.DropoutBackward(s, y, x, rng, -0.25, 0) }, "dropout backward: drop probability -0.25:"},
		{"p NaN", func(s *engine.Sequence) { ops.DropoutForward(s, y, x, rng, nan, 0) }, "drop probability NaN"},
		{"dropout int x", func(s *engine.Sequence) { ops.DropoutForward(s, y, ints, rng, 0.5, 0) }, "dropout forward: x t"},
		{"dropout int y", func(s *engine.Sequence) { ops.DropoutForward(s, ints, x, rng, 0.5, 0) }, "dropout forward: y t"},
		{"dropout float rng", func(s *engine.Sequence) { ops.DropoutForward(s, y, x, floatRNG, 0.5, 0) }, "dropout forward: rng state float rng"},
		{"dropout short rng", func(s *engine.Sequence) { ops.DropoutForward(s, y, x, shortRNG, 0.5, 0) }, "dropout forward: rng state t uint32[3] does not match"},
		{"dropout y shape", func(s *engine.Sequence) { ops.DropoutForward(s, poisoned(t, d, "y3", 3), x, rng, 0.5, 0) }, "dropout forward: y y3"},
		{"dropout y with an extra dimension", func(s *engine.Sequence) { ops.DropoutForward(s, poisoned(t, d, "y5", 2, 3, 4, 4, 1), x, rng, 0.5, 0) }, "dropout forward: y y5 float32[2 3 4 4 1] does not match shape [2 3 4 4]"},
		{"uniform float rng", func(s *engine.Sequence) { ops.RandomUniform(s, y, floatRNG, 0) }, "random uniform: rng state float rng"},
		{"uniform short rng", func(s *engine.Sequence) { ops.RandomUniform(s, y, shortRNG, 0) }, "random uniform: rng state t uint32[3]"},
		{"uniform int y", func(s *engine.Sequence) { ops.RandomUniform(s, ints, rng, 0) }, "random uniform: y t"},
	})
	for name, bad := range map[string]*engine.Tensor{"float": floatRNG, "short": shortRNG, "nil": nil} {
		if err := ops.SetRNGState(bad, 1, 2); err == nil || !strings.Contains(err.Error(), "want a uint32 [4] tensor") {
			t.Errorf("SetRNGState on a %s tensor: got %v", name, err)
		}
	}
}

// TestMasksOfABatchSlice: a slice of a batch starting at sample first, with
// the RNG state's first sample set, draws the drop-path and dropout masks
// the whole batch draws for those samples (a data-parallel rank's slice).
func TestMasksOfABatchSlice(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, tc := range []struct {
		shape       ref.Shape4
		first, size int
	}{{ref.Shape4{N: 6, C: 3, H: 2, W: 5}, 2, 2}, {ref.Shape4{N: 6, C: 3, H: 1, W: 3}, 3, 3}, {ref.Shape4{N: 8, C: 8, H: 1, W: 1}, 1, 5}} {
		xs := tc.shape
		t.Run(xs.String(), func(t *testing.T) {
			// A fixed seed and step whose masks are seen to vary over each
			// batch (checked below), so the test cannot pass vacuously.
			const seed, step = uint64(0x9E3779B97F4A7C15), uint32(7)
			per := xs.C * xs.H * xs.W
			_, x32 := randSlice(r, xs.Len())
			part := x32[tc.first*per : (tc.first+tc.size)*per]
			for _, kind := range []string{"drop path", "dropout"} {
				record := func(s *engine.Sequence, y, x, rng *engine.Tensor) {
					if kind == "drop path" {
						ops.DropPathForward(s, y, x, rng, 0.5, 5)
					} else {
						ops.DropoutForward(s, y, x, rng, 0.4, 5)
					}
				}
				whole := rngState(t, d, seed, step)
				x := upload(t, d, "x", x32, xs.N, xs.C, xs.H, xs.W)
				y := poisoned(t, d, "y", xs.N, xs.C, xs.H, xs.W)
				run(t, d, func(s *engine.Sequence) { record(s, y, x, whole) })
				sliced := rngState(t, d, seed, step)
				if err := ops.SetRNGStateAt(sliced, seed, step, uint32(tc.first)); err != nil {
					t.Fatal(err)
				}
				xp := upload(t, d, "x slice", part, tc.size, xs.C, xs.H, xs.W)
				yp := poisoned(t, d, "y slice", tc.size, xs.C, xs.H, xs.W)
				run(t, d, func(s *engine.Sequence) { record(s, yp, xp, sliced) })
				all, err := y.Floats()
				if err != nil {
					t.Fatal(err)
				}
				got, err := yp.Floats()
				if err != nil {
					t.Fatal(err)
				}
				want := all[tc.first*per : (tc.first+tc.size)*per]
				for i := range got {
					if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
						t.Fatalf("%s: slice element %d = %v, the whole batch's = %v", kind, i, got[i], want[i])
					}
				}
				dropped := 0
				for _, v := range all {
					if v == 0 {
						dropped++
					}
				}
				if dropped == 0 || dropped == len(all) {
					t.Errorf("%s: %d of %d elements dropped: the masks do not vary, the test proves nothing", kind, dropped, len(all))
				}
			}
		})
	}
}
