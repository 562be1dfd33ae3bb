package ops_test

import (
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
)

// testRand is enginetest.Rand: a generator with a logged seed.
func testRand(t *testing.T) *rand.Rand { return enginetest.Rand(t) }

// randSlice returns n normal values as float64 (for the reference) and
// float32 (for the device), the float64 ones exactly the float32 ones.
func randSlice(r *rand.Rand, n int) ([]float64, []float32) {
	a, b := make([]float64, n), make([]float32, n)
	for i := range a {
		b[i] = float32(r.NormFloat64())
		a[i] = float64(b[i])
	}
	return a, b
}

// upload allocates a float32 tensor holding v.
func upload(t *testing.T, d *engine.Device, name string, v []float32, shape ...int) *engine.Tensor {
	t.Helper()
	x, err := d.NewTensor(name, engine.Float32, shape...)
	if err != nil {
		t.Fatal(err)
	}
	if err := x.Upload(v); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Free)
	return x
}

// poisoned allocates a float32 tensor filled with NaN, so that an element
// the kernel fails to write fails the comparison.
func poisoned(t *testing.T, d *engine.Device, name string, shape ...int) *engine.Tensor {
	t.Helper()
	x, err := d.NewTensor(name, engine.Float32, shape...)
	if err != nil {
		t.Fatal(err)
	}
	nan := make([]float32, x.Len())
	for i := range nan {
		nan[i] = float32(math.NaN())
	}
	if err := x.Upload(nan); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Free)
	return x
}

// run records fn into a sequence, runs it once and releases it.
func run(t *testing.T, d *engine.Device, fn func(s *engine.Sequence)) {
	t.Helper()
	s, err := d.NewSequence(t.Name(), engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	fn(s)
	if err := d.Run(s); err != nil {
		t.Fatal(err)
	}
}

// download returns a float32 tensor's contents as float64.
func download(t *testing.T, x *engine.Tensor) []float64 {
	t.Helper()
	v, err := x.Floats()
	if err != nil {
		t.Fatal(err)
	}
	out := make([]float64, len(v))
	for i := range v {
		out[i] = float64(v[i])
	}
	return out
}

// compare fails t when got and want differ by more than tol relative to the
// largest magnitude of want (an all-zero want is compared absolutely), or
// when got has a NaN (an unwritten element).
func compare(t *testing.T, what string, got, want []float64, tol float64) {
	t.Helper()
	if err := closeTo(got, want, tol); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

func closeTo(got, want []float64, tol float64) error { return enginetest.CloseTo(got, want, tol) }

// compareAtLeast is compare with errors measured relative to at least
// scale, the magnitude of the operands (enginetest.CloseToAtLeast).
func compareAtLeast(t *testing.T, what string, got, want []float64, tol, scale float64) {
	t.Helper()
	if err := enginetest.CloseToAtLeast(got, want, tol, scale); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// sameBits fails t unless two runs gave bitwise identical results.
func sameBits(t *testing.T, what string, a, b []float64) {
	t.Helper()
	for i := range a {
		if math.Float64bits(a[i]) != math.Float64bits(b[i]) {
			t.Fatalf("%s: run-to-run difference at %d: %v vs %v", what, i, a[i], b[i])
		}
	}
}

// benchFamilies times every registered bench case of the given families
// (ops.BenchCases): recorded once, run once to warm up (JIT, caches), then
// replayed b.N times, reporting GFLOP/s or GB/s.
func benchFamilies(b *testing.B, families ...string) {
	d := enginetest.Open(b)
	for _, c := range ops.BenchCases() {
		if !slices.Contains(families, c.Op) {
			continue
		}
		b.Run(c.Name, func(b *testing.B) { benchCase(b, d, c) })
	}
}

// benchCase times one bench case on d: recorded once, run once to warm up
// (JIT, caches), then replayed b.N times, reporting GFLOP/s or GB/s.
func benchCase(b *testing.B, d *engine.Device, c ops.BenchCase) {
	s, err := d.NewSequence(c.Name, engine.SequenceOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Release()
	cleanup, err := c.Setup(d, s)
	if err != nil {
		b.Fatal(err)
	}
	defer cleanup()
	if err := s.Finish(); err != nil {
		b.Fatal(err)
	}
	if err := d.Run(s); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if err := d.Run(s); err != nil {
			b.Fatal(err)
		}
	}
	sec := b.Elapsed().Seconds() / float64(b.N)
	b.ReportMetric(c.Work/sec/1e9, string(c.Unit))
}

// newTensor allocates an (unwritten) tensor of any element type, freed when
// t ends: for error cases, which never run.
func newTensor(t *testing.T, d *engine.Device, dt engine.DType, shape ...int) *engine.Tensor {
	t.Helper()
	x, err := d.NewTensor("t", dt, shape...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(x.Free)
	return x
}

// errorCase is one bad call of an op: the error it must record names the
// check under test (want is a substring only that check's message holds),
// and every other input is valid, so deleting the check fails the case.
type errorCase struct {
	name string
	rec  func(s *engine.Sequence)
	want string
}

// wantRecordErrors runs wantRecordError for every case.
func wantRecordErrors(t *testing.T, d *engine.Device, cases []errorCase) {
	t.Helper()
	for _, c := range cases {
		wantRecordError(t, d, c.name, c.rec, c.want)
	}
}

// wantRecordError records rec into a new sequence and fails t unless
// Finish reports an error containing want.
func wantRecordError(t *testing.T, d *engine.Device, name string, rec func(s *engine.Sequence), want string) {
	t.Helper()
	s, err := d.NewSequence(name, engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	rec(s)
	if err := s.Finish(); err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("%s: got %v, want an error containing %q", name, err, want)
	}
	if n := s.Dispatches(); n != 0 {
		t.Errorf("%s: %d dispatches recorded by a refused call", name, n)
	}
}

// centralDifference returns (loss(p[i]+step) - loss(p[i]-step)) / (2*step)
// for the parameter tensor param holding vals, uploading each perturbed
// copy before calling loss, and uploads vals again afterwards.
func centralDifference(t *testing.T, loss func() float64, param *engine.Tensor, vals []float32, i int, step float32) float64 {
	t.Helper()
	at := func(v float32) float64 {
		p := append([]float32(nil), vals...)
		p[i] = v
		if err := param.Upload(p); err != nil {
			t.Fatal(err)
		}
		return loss()
	}
	num := (at(vals[i]+step) - at(vals[i]-step)) / float64(2*step)
	if err := param.Upload(vals); err != nil {
		t.Fatal(err)
	}
	return num
}

// randRunningStats returns random running statistics of c channels, in
// float64 and float32: means standard normal, variances 0.5 + |normal|, each
// float64 value the float32 one exactly.
func randRunningStats(r *rand.Rand, c int) (mean64 []float64, mean32 []float32, var64 []float64, var32 []float32) {
	mean64, mean32 = randSlice(r, c)
	var64, var32 = randSlice(r, c)
	for i := range var32 {
		var32[i] = float32(0.5 + math.Abs(var64[i]))
		var64[i] = float64(var32[i])
	}
	return mean64, mean32, var64, var32
}
