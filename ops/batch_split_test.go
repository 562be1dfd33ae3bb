package ops_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
)

// splitLimit is the binding limit the batch-split tests force: below the
// 5880 bytes of their input x [5,6,7,7], above one sample's 1176, so every
// operation over x runs in slices of 2, 2 and 1 samples (2 is the fewest
// whole samples that start on a 16-byte offset).
const splitLimit = "4096"

// splitOps records a set of operations over a batch of 5 odd-sized images
// on d and returns each output's values and the number of dispatches.
// Inputs come from a fixed seed, so two devices get the same ones.
func splitOps(t *testing.T, d *engine.Device) (map[string][]float32, int) {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 4))
	in := func(name string, offset float64, shape ...int) *engine.Tensor {
		n := 1
		for _, s := range shape {
			n *= s
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(offset + r.NormFloat64())
		}
		return upload(t, d, name, v, shape...)
	}
	x := in("x", 3, 5, 6, 7, 7)
	dy := in("dy", 0, 5, 6, 7, 7)
	dyConv := in("dy conv", 0, 5, 8, 4, 4)
	dyPoint := in("dy pointwise", 0, 5, 4, 7, 7)
	wConv := in("w conv", 0, 8, 6, 3, 3)
	wPoint := in("w pointwise", 0, 4, 6, 1, 1)
	wDepth := in("w depthwise", 0, 6, 1, 3, 3)
	gamma, beta := in("gamma", 1, 6), in("beta", 0, 6)
	features, wLinear, bLinear, dyLinear := in("features", 0, 5, 200), in("w linear", 0, 3, 200), in("b linear", 0, 3), in("dy linear", 0, 5, 3)
	src, err := d.NewTensor("raw images", engine.Uint8, 5, 8, 8, 3)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Free)
	pixels := make([]uint8, src.Len())
	for i := range pixels {
		pixels[i] = uint8(r.IntN(256))
	}
	if err := src.Upload(pixels); err != nil {
		t.Fatal(err)
	}
	rng, err := ops.NewRNGState(d, 77)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rng.Free)
	out := map[string]*engine.Tensor{
		"conv forward": poisoned(t, d, "y conv", 5, 8, 4, 4), "conv backward data": poisoned(t, d, "dx conv", 5, 6, 7, 7),
		"conv backward weight": poisoned(t, d, "dw conv", 8, 6, 3, 3), "conv backward weight chunked": poisoned(t, d, "dw conv chunked", 8, 6, 3, 3),
		"pointwise forward": poisoned(t, d, "y pointwise", 5, 4, 7, 7), "pointwise backward data": poisoned(t, d, "dx pointwise", 5, 6, 7, 7),
		"pointwise backward weight": poisoned(t, d, "dw pointwise", 4, 6, 1, 1),
		"depthwise forward":         poisoned(t, d, "y depthwise", 5, 6, 7, 7), "depthwise backward weight": poisoned(t, d, "dw depthwise", 6, 1, 3, 3),
		"mean": poisoned(t, d, "mean", 6), "invstd": poisoned(t, d, "invstd", 6),
		"batch norm forward": poisoned(t, d, "y bn", 5, 6, 7, 7), "batch norm dx": poisoned(t, d, "dx bn", 5, 6, 7, 7),
		"dgamma": poisoned(t, d, "dgamma", 6), "dbeta": poisoned(t, d, "dbeta", 6),
		"silu": poisoned(t, d, "y silu", 5, 6, 7, 7), "drop path": poisoned(t, d, "y drop path", 5, 6, 7, 7),
		"avg pool": poisoned(t, d, "y pool", 5, 6), "prepare input": poisoned(t, d, "y input", 5, 3, 12, 12),
		"linear forward": poisoned(t, d, "y linear", 5, 3), "linear dx": poisoned(t, d, "dx linear", 5, 200),
		"linear dw": poisoned(t, d, "dw linear", 3, 200), "linear db": poisoned(t, d, "db linear", 3),
	}
	scratch, err := ops.NewConv2DWeightScratch(d, x.Shape, wConv.Shape, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(scratch.Free)
	s, err := d.NewSequence(t.Name(), engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	ops.Conv2DForward(s, out["conv forward"], x, wConv, 2)
	ops.Conv2DBackwardWeightChunked(s, out["conv backward weight chunked"], x, dyConv, 2, scratch)
	ops.Conv2DBackwardData(s, out["conv backward data"], dyConv, wConv, 2)
	ops.Conv2DBackwardWeight(s, out["conv backward weight"], x, dyConv, 2)
	ops.PointwiseForward(s, out["pointwise forward"], x, wPoint)
	ops.PointwiseBackwardData(s, out["pointwise backward data"], dyPoint, wPoint)
	ops.PointwiseBackwardWeight(s, out["pointwise backward weight"], x, dyPoint)
	ops.DepthwiseForward(s, out["depthwise forward"], x, wDepth, 1)
	ops.DepthwiseBackwardWeight(s, out["depthwise backward weight"], x, dy, 1)
	ops.BatchNormStats(s, out["mean"], out["invstd"], x, 1e-3)
	ops.BatchNormForward(s, out["batch norm forward"], x, out["mean"], out["invstd"], gamma, beta, ops.ActSiLU)
	ops.BatchNormBackward(s, out["batch norm dx"], out["dgamma"], out["dbeta"], dy, x, out["mean"], out["invstd"], gamma, beta, ops.ActSiLU)
	ops.SiLUForward(s, out["silu"], x)
	ops.DropPathForward(s, out["drop path"], x, rng, 0.5, 3)
	ops.GlobalAvgPoolForward(s, out["avg pool"], x)
	ops.LinearForward(s, out["linear forward"], features, wLinear, bLinear)
	ops.LinearBackward(s, out["linear dx"], out["linear dw"], out["linear db"], dyLinear, features, wLinear)
	ops.PrepareInput(s, out["prepare input"], src, [3]float32{0.4, 0.5, 0.6}, [3]float32{0.2, 0.25, 0.3})
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	if err := d.Run(s); err != nil {
		t.Fatal(err)
	}
	got := map[string][]float32{}
	for name, o := range out {
		v, err := o.Floats()
		if err != nil {
			t.Fatal(err)
		}
		got[name] = v
	}
	return got, s.Dispatches()
}

// TestBatchSplitMatchesWholeBatch records convolutions, batch norm and
// elementwise operations over a batch whose input exceeds a forced binding
// limit, so each runs in slices of the batch, and compares them with the
// same operations on the device as it is: per-sample results bitwise, sums
// over the batch (weight gradients, batch-norm statistics and everything
// after them) to float32 rounding.
func TestBatchSplitMatchesWholeBatch(t *testing.T) {
	want, wantDispatches := splitOps(t, enginetest.Open(t))
	t.Setenv("EFFV2VK_MAX_STORAGE_RANGE", splitLimit)
	d := enginetest.Open(t)
	got, gotDispatches := splitOps(t, d)
	t.Logf("%d dispatches whole, %d split", wantDispatches, gotDispatches)
	if gotDispatches <= wantDispatches {
		t.Fatalf("%d dispatches under a %s-byte limit, %d without: nothing was split", gotDispatches, splitLimit, wantDispatches)
	}
	bitwise := map[string]bool{"conv forward": true, "conv backward data": true, "pointwise forward": true,
		"pointwise backward data": true, "depthwise forward": true, "silu": true, "drop path": true, "avg pool": true, "prepare input": true,
		"linear forward": true, "linear dx": true}
	for name, w := range want {
		g := got[name]
		if bitwise[name] {
			for i := range w {
				if math.Float32bits(g[i]) != math.Float32bits(w[i]) {
					t.Errorf("%s: element %d is %v split, %v whole: per-sample results must be bitwise equal", name, i, g[i], w[i])
					break
				}
			}
			continue
		}
		if err := enginetest.CloseTo(float64s(g), float64s(w), 2e-5); err != nil {
			t.Errorf("%s: split vs whole batch: %v", name, err)
		}
	}
	enginetest.Check(t, d)
}

// TestBatchSplitOneSampleTooLarge: a single image beyond the binding limit
// cannot be split; the error names the tensor, the limit and the way out.
func TestBatchSplitOneSampleTooLarge(t *testing.T) {
	t.Setenv("EFFV2VK_MAX_STORAGE_RANGE", splitLimit)
	d := enginetest.Open(t)
	x := poisoned(t, d, "stem input", 2, 8, 16, 16) // 8 KiB per image
	y := poisoned(t, d, "stem output", 2, 8, 16, 16)
	w := poisoned(t, d, "w", 8, 8, 3, 3)
	s, err := d.NewSequence(t.Name(), engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	ops.Conv2DForward(s, y, x, w, 1)
	err = s.Finish()
	t.Log(err)
	if !errors.Is(err, engine.ErrBindingTooLarge) {
		t.Fatalf("error %v, want ErrBindingTooLarge", err)
	}
	for _, part := range []string{"conv2d forward", "one sample of", "8.0 KiB", "4.0 KiB", "smaller image size"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not say %q", err, part)
		}
	}
	if !strings.Contains(err.Error(), "stem output") && !strings.Contains(err.Error(), "stem input") {
		t.Errorf("error %q names neither tensor", err)
	}
}

func float64s(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = float64(f)
	}
	return out
}
