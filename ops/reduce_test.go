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

func TestReductions(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	// Lengths: one element, not a multiple of 4, exactly one chunk, one
	// past it, several chunks (4096 elements per partial).
	lengths := []int{1, 7, 4096, 4097, 3*4096 + 5, 1 + r.IntN(50000)}
	var xs []*engine.Tensor
	var vals [][]float64
	for _, n := range lengths {
		v64, v32 := randSlice(r, n)
		xs = append(xs, upload(t, d, "x", v32, n))
		vals = append(vals, v64)
	}
	scratch, err := ops.NewReduceScratch(d, xs...)
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Free()
	for i, x := range xs {
		sum, mean := poisoned(t, d, "sum", 1), poisoned(t, d, "mean", 1)
		run(t, d, func(s *engine.Sequence) {
			ops.Sum(s, sum, scratch, x)
			ops.Mean(s, mean, scratch, x)
		})
		// Relative to the sum of magnitudes: a sum of signed values can be
		// much smaller than its terms.
		abs := 0.0
		for _, v := range vals[i] {
			abs += math.Abs(v)
		}
		if err := enginetest.Within(download(t, sum)[0], ref.Sum(vals[i]), 1e-6*abs); err != nil {
			t.Errorf("sum of %d: %v", len(vals[i]), err)
		}
		if err := enginetest.Within(download(t, mean)[0], ref.Mean(vals[i]), 1e-6*abs/float64(len(vals[i]))); err != nil {
			t.Errorf("mean of %d: %v", len(vals[i]), err)
		}
	}
	norm := poisoned(t, d, "norm", 1)
	run(t, d, func(s *engine.Sequence) { ops.GradNorm(s, norm, scratch, xs...) })
	first := download(t, norm)
	compare(t, "grad norm", first, []float64{ref.L2Norm(vals...)}, 1e-5)
	run(t, d, func(s *engine.Sequence) { ops.GradNorm(s, norm, scratch, xs...) })
	sameBits(t, "grad norm", first, download(t, norm))
}

// TestReduceErrors reaches each check of the reductions with otherwise valid
// arguments.
func TestReduceErrors(t *testing.T) {
	d := enginetest.Open(t)
	x, big := poisoned(t, d, "x", 100), poisoned(t, d, "big", 50000)
	out := poisoned(t, d, "out", 1)
	scratch, err := ops.NewReduceScratch(d, x, big)
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Free()
	small, err := ops.NewReduceScratch(d, x)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Free()
	wantRecordErrors(t, d, []errorCase{
		{"int out", func(s *engine.Sequence) { ops.Sum(s, newTensor(t, d, engine.Int32, 1), scratch, x) }, "sum: out t int32[1] must hold float32"},
		{"out shape", func(s *engine.Sequence) { ops.Sum(s, poisoned(t, d, "o2", 2), scratch, x) }, "sum: out o2 float32[2] does not match shape [1]"},
		{"nil scratch", func(s *engine.Sequence) { ops.Sum(s, out, nil, x) }, "sum: missing scratch"},
		{"no tensors", func(s *engine.Sequence) { ops.GradNorm(s, out, scratch) }, "grad norm: no tensors to reduce"},
		{"int tensor", func(s *engine.Sequence) { ops.GradNorm(s, out, scratch, x, newTensor(t, d, engine.Int32, 4)) }, "grad norm: tensor 1 t int32[4] must hold float32"},
		{"mean of nil", func(s *engine.Sequence) { ops.Mean(s, out, scratch, nil) }, "mean: missing tensor"},
		{"scratch too small", func(s *engine.Sequence) { ops.GradNorm(s, out, small, x, big) }, "grad norm: 14 partial sums exceed the scratch's 1"},
	})
	if _, err := ops.NewReduceScratch(d, x, nil); err == nil || !strings.Contains(err.Error(), "reduce scratch: tensor 1 is nil") {
		t.Errorf("scratch over a nil tensor: got %v", err)
	}
}

// BenchmarkMisc times the squeeze-excite, classifier, input, dropout and
// reduction cases of bench_misc.go.
func BenchmarkMisc(b *testing.B) {
	benchFamilies(b, "squeeze_excite", "classifier", "input", "dropout", "reduce")
}
