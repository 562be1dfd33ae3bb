package ops_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// seGate holds one squeeze-excite gate's tensors on the device and their
// float64 values: pooled [N,C], w1 [Q,C,1,1], b1 [Q], w2 [C,Q,1,1], b2 [C],
// dg [N,C], and the outputs of both passes (poisoned).
type seGate struct {
	n, c, q                     int
	pooled, w1, b1, w2, b2, dg  *engine.Tensor
	s1, a1, g                   *engine.Tensor
	ds2, ds1, dp, dw1, db1, dw2 *engine.Tensor
	db2                         *engine.Tensor
	pooled64, w164, b164, w264  []float64
	b264, dg64                  []float64
	pooled32, w132, b132, w232  []float32
	b232                        []float32
}

// fanInScaled is randSlice scaled by 1/sqrt(fanIn), as a weight is
// initialised: the sums stay O(1), the sigmoids unsaturated.
func fanInScaled(r *rand.Rand, n, fanIn int) ([]float64, []float32) {
	v64, v32 := randSlice(r, n)
	k := float32(1 / math.Sqrt(float64(fanIn)))
	for i := range v32 {
		v32[i] *= k
		v64[i] = float64(v32[i])
	}
	return v64, v32
}

func newSEGate(t *testing.T, d *engine.Device, r *rand.Rand, n, c, q int) *seGate {
	t.Helper()
	e := &seGate{n: n, c: c, q: q}
	var dg32 []float32
	e.pooled64, e.pooled32 = randSlice(r, n*c)
	e.w164, e.w132 = fanInScaled(r, q*c, c)
	e.b164, e.b132 = randSlice(r, q)
	e.w264, e.w232 = fanInScaled(r, c*q, q)
	e.b264, e.b232 = randSlice(r, c)
	e.dg64, dg32 = randSlice(r, n*c)
	e.pooled = upload(t, d, "pooled", e.pooled32, n, c)
	e.w1 = upload(t, d, "w1", e.w132, q, c, 1, 1)
	e.b1 = upload(t, d, "b1", e.b132, q)
	e.w2 = upload(t, d, "w2", e.w232, c, q, 1, 1)
	e.b2 = upload(t, d, "b2", e.b232, c)
	e.dg = upload(t, d, "dg", dg32, n, c)
	e.s1, e.a1, e.g = poisoned(t, d, "s1", n, q), poisoned(t, d, "a1", n, q), poisoned(t, d, "g", n, c)
	e.ds2, e.ds1, e.dp = poisoned(t, d, "ds2", n, c), poisoned(t, d, "ds1", n, q), poisoned(t, d, "dpooled", n, c)
	e.dw1, e.db1 = poisoned(t, d, "dw1", q, c, 1, 1), poisoned(t, d, "db1", q)
	e.dw2, e.db2 = poisoned(t, d, "dw2", c, q, 1, 1), poisoned(t, d, "db2", c)
	return e
}

func (e *seGate) forward(s *engine.Sequence) {
	ops.SqueezeExciteMLPForward(s, e.s1, e.a1, e.g, e.pooled, e.w1, e.b1, e.w2, e.b2)
}

func (e *seGate) backward(s *engine.Sequence) {
	ops.SqueezeExciteMLPBackward(s, e.dp, e.dw1, e.db1, e.dw2, e.db2, e.ds2, e.ds1, e.dg, e.g, e.s1, e.a1, e.pooled, e.w1, e.w2)
}

// outputs downloads every output of both passes, in a fixed order.
func (e *seGate) outputs(t *testing.T) [][]float64 {
	var out [][]float64
	for _, x := range []*engine.Tensor{e.s1, e.a1, e.g, e.ds2, e.ds1, e.dp, e.dw1, e.db1, e.dw2, e.db2} {
		out = append(out, download(t, x))
	}
	return out
}

// TestSqueezeExciteMLP checks the fused gate, forward and backward, against
// the float64 chain fc1, SiLU, fc2, sigmoid (ops/ref) and their gradients,
// and that a second run repeats every output bitwise. Shapes: batch 1, odd
// C and Q (the scalar paths), C and Q multiples of 4 (the vec4 paths), Q
// wider than the workgroup (several passes over the hidden units: 70 on a
// CPU driver's 64, 300 on a GPU's 256), pico's and V2-S's largest gates.
//
// The forward and the backward pass run once per autotuned variant of
// each (forced, the other pass at its default), each of which must be
// used: besides the shapes above, C not a multiple of 4 with Q one
// (3x30x8), Q a multiple of neither 4 nor the subgroup sizes 4 to 16 with
// C one (3x100x13).
func TestSqueezeExciteMLP(t *testing.T) {
	d := enginetest.Open(t)
	for _, op := range []string{"squeeze_excite_mlp_forward", "squeeze_excite_mlp_backward"} {
		variants := ops.TunedVariants()[op]
		if len(variants) == 0 {
			t.Fatalf("no variants of %s registered", op)
		}
		for _, v := range variants {
			t.Run(op+"/"+v, func(t *testing.T) {
				forceTuning(t, op, v)
				checkSqueezeExciteMLP(t, d, testRand(t))
				if !forcedUsed(d, op, v) {
					t.Fatalf("variant %s of %s never eligible for the test shapes on this device", v, op)
				}
			})
		}
	}
}

// checkSqueezeExciteMLP is TestSqueezeExciteMLP for the variant in force.
func checkSqueezeExciteMLP(t *testing.T, d *engine.Device, r *rand.Rand) {
	for _, sh := range [][3]int{{1, 1, 1}, {3, 5, 2}, {2, 24, 6}, {2, 32, 8}, {3, 7, 70}, {1, 12, 300}, {2, 288, 12}, {2, 1536, 64}, {3, 30, 8}, {3, 100, 13}} {
		n, c, q := sh[0], sh[1], sh[2]
		t.Run(fmt.Sprintf("N%d_C%d_Q%d", n, c, q), func(t *testing.T) {
			e := newSEGate(t, d, r, n, c, q)
			run(t, d, func(s *engine.Sequence) { e.forward(s); e.backward(s) })
			s1 := ref.LinearForward(e.pooled64, n, c, e.w164, e.b164, q)
			a1 := ref.SiLUForward(s1)
			s2 := ref.LinearForward(a1, n, q, e.w264, e.b264, c)
			g := ref.SigmoidForward(s2)
			compare(t, "s1", download(t, e.s1), s1, 1e-5)
			compare(t, "a1", download(t, e.a1), a1, 1e-5)
			compare(t, "g", download(t, e.g), g, 1e-5)
			ds2 := ref.SigmoidBackward(e.dg64, s2)
			da1, dw2, db2 := ref.LinearBackward(ds2, a1, n, q, e.w264, c)
			ds1 := ref.SiLUBackward(da1, s1)
			dp, dw1, db1 := ref.LinearBackward(ds1, e.pooled64, n, c, e.w164, q)
			for _, o := range []struct {
				what string
				got  *engine.Tensor
				want []float64
			}{{"ds2", e.ds2, ds2}, {"ds1", e.ds1, ds1}, {"dpooled", e.dp, dp}, {"dw1", e.dw1, dw1}, {"db1", e.db1, db1}, {"dw2", e.dw2, dw2}, {"db2", e.db2, db2}} {
				compare(t, o.what, download(t, o.got), o.want, 1e-4)
			}
			first := e.outputs(t)
			run(t, d, func(s *engine.Sequence) { e.forward(s); e.backward(s) })
			for i, again := range e.outputs(t) {
				sameBits(t, fmt.Sprintf("output %d", i), first[i], again)
			}
		})
	}
}

// TestSqueezeExciteMLPGradient checks each variant of the fused backward
// against central differences of the fused forward's loss
// sum_{n,c} g[n,c] * dg[n,c], on every input and parameter (float32
// rounding of the loss, about 1e-6, over the step 2e-2 gives the absolute
// floor 2e-4).
func TestSqueezeExciteMLPGradient(t *testing.T) {
	d := enginetest.Open(t)
	const op = "squeeze_excite_mlp_backward"
	for _, v := range ops.TunedVariants()[op] {
		t.Run(v, func(t *testing.T) {
			forceTuning(t, op, v)
			checkSqueezeExciteMLPGradient(t, d, testRand(t))
			if !forcedUsed(d, op, v) {
				t.Fatalf("variant %s of %s never eligible for the test shapes on this device", v, op)
			}
		})
	}
}

// checkSqueezeExciteMLPGradient is TestSqueezeExciteMLPGradient for the
// variant in force.
func checkSqueezeExciteMLPGradient(t *testing.T, d *engine.Device, r *rand.Rand) {
	for _, sh := range [][3]int{{2, 10, 3}, {3, 16, 8}} {
		n, c, q := sh[0], sh[1], sh[2]
		e := newSEGate(t, d, r, n, c, q)
		run(t, d, func(s *engine.Sequence) { e.forward(s); e.backward(s) })
		grads := map[string][]float64{"pooled": download(t, e.dp), "w1": download(t, e.dw1), "b1": download(t, e.db1),
			"w2": download(t, e.dw2), "b2": download(t, e.db2)}
		fwd, err := d.NewSequence("forward", engine.SequenceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		e.forward(fwd)
		loss := func() float64 {
			if err := d.Run(fwd); err != nil {
				t.Fatal(err)
			}
			sum := 0.0
			for i, v := range download(t, e.g) {
				sum += v * e.dg64[i]
			}
			return sum
		}
		for _, p := range []struct {
			name string
			t    *engine.Tensor
			vals []float32
		}{{"pooled", e.pooled, e.pooled32}, {"w1", e.w1, e.w132}, {"b1", e.b1, e.b132}, {"w2", e.w2, e.w232}, {"b2", e.b2, e.b232}} {
			for range 3 {
				i := r.IntN(len(p.vals))
				num := centralDifference(t, loss, p.t, p.vals, i, 1e-2)
				if err := enginetest.WithinRel(num, grads[p.name][i], 2e-3, 0.1); err != nil {
					t.Errorf("N%d C%d Q%d: d%s[%d]: finite difference against backward: %v", n, c, q, p.name, i, err)
				}
			}
		}
		fwd.Release()
	}
}

// TestSqueezeExciteMLPErrors checks that mismatched shapes are refused with
// an error naming the tensor, and record nothing.
func TestSqueezeExciteMLPErrors(t *testing.T) {
	d := enginetest.Open(t)
	f32 := func(shape ...int) *engine.Tensor { return newTensor(t, d, engine.Float32, shape...) }
	wantRecordErrors(t, d, []errorCase{
		{"fc1 width", func(s *engine.Sequence) {
			ops.SqueezeExciteMLPForward(s, f32(2, 3), f32(2, 3), f32(2, 8), f32(2, 8), f32(3, 7), f32(3), f32(8, 3), f32(8))
		}, "fc1 weight"},
		{"fc2 bias", func(s *engine.Sequence) {
			ops.SqueezeExciteMLPForward(s, f32(2, 3), f32(2, 3), f32(2, 8), f32(2, 8), f32(3, 8), f32(3), f32(8, 3), f32(7))
		}, "b2"},
		{"hidden", func(s *engine.Sequence) {
			ops.SqueezeExciteMLPForward(s, f32(2, 4), f32(2, 3), f32(2, 8), f32(2, 8), f32(3, 8), f32(3), f32(8, 3), f32(8))
		}, "s1"},
		{"dw2", func(s *engine.Sequence) {
			ops.SqueezeExciteMLPBackward(s, f32(2, 8), f32(3, 8), f32(3), f32(3, 8), f32(8), f32(2, 8), f32(2, 3),
				f32(2, 8), f32(2, 8), f32(2, 3), f32(2, 3), f32(2, 8), f32(3, 8), f32(8, 3))
		}, "dw2"},
		{"dg", func(s *engine.Sequence) {
			ops.SqueezeExciteMLPBackward(s, f32(2, 8), f32(3, 8), f32(3), f32(8, 3), f32(8), f32(2, 8), f32(2, 3),
				f32(1, 8), f32(2, 8), f32(2, 3), f32(2, 3), f32(2, 8), f32(3, 8), f32(8, 3))
		}, "dg"},
	})
}
