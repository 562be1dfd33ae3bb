package engine_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/shaders"
)

// repeatedSaxpyRequest asks to tune a toy operation whose variant i runs
// the saxpy kernel repeats[i] times on the same tensors: their relative
// costs are known.
func repeatedSaxpyRequest(shape, def string, names []string, repeats []int) engine.TuneRequest {
	const n = 1 << 16
	req := engine.TuneRequest{Op: "saxpy_repeats_test", Shape: shape, Default: def}
	for _, name := range names {
		req.Variants = append(req.Variants, engine.TuneVariant{Name: name, Kernels: []string{"saxpy"}})
	}
	req.Bench = func(d *engine.Device) (func(s *engine.Sequence, i int), func(), error) {
		x, err := d.NewTensor("x", engine.Float32, n)
		if err != nil {
			return nil, nil, err
		}
		y, err := d.NewTensor("y", engine.Float32, n)
		if err != nil {
			x.Free()
			return nil, nil, err
		}
		if err := errors.Join(x.Upload(make([]float32, n)), y.Upload(make([]float32, n))); err != nil {
			x.Free()
			y.Free()
			return nil, nil, err
		}
		record := func(s *engine.Sequence, i int) {
			for range repeats[i] {
				s.Dispatch1D(s.Kernel("saxpy"), n, shaders.SaxpyPush{N: n, A: 0.5}, x, y)
			}
		}
		return record, func() { x.Free(); y.Free() }, nil
	}
	return req
}

// TestTuneChoosesCheaperVariant: a variant doing a quarter of the default's
// work replaces it, after winning the rematch too.
func TestTuneChoosesCheaperVariant(t *testing.T) {
	tuneEnv(t)
	d := enginetest.Open(t)
	res, err := d.Tune(repeatedSaxpyRequest("n=65536", "four", []string{"four", "once"}, []int{4, 1}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Source != "measured" || res.Variant != "once" {
		t.Fatalf("saxpy once vs four times (default): %+v, want once measured", res)
	}
	if res.Times["four"] <= res.Times["once"] || res.Rematch["four"] <= res.Rematch["once"] {
		t.Fatalf("times %v, rematch %v: want four saxpys slower than one in both", res.Times, res.Rematch)
	}
}

// TestTuneEqualVariantsKeepDefault: variants recording the same work never
// displace the default (several tunings, each a fresh measurement), nor
// does a costlier one.
func TestTuneEqualVariantsKeepDefault(t *testing.T) {
	tuneEnv(t)
	d := enginetest.Open(t)
	for i := range 4 {
		req := repeatedSaxpyRequest(fmt.Sprintf("n=65536 try=%d", i), "second", []string{"first", "second", "third"}, []int{1, 1, 1})
		res, err := d.Tune(req)
		if err != nil {
			t.Fatal(err)
		}
		if res.Source != "measured" || res.Variant != "second" {
			t.Fatalf("try %d, three equal variants: %+v (rematch %v), want the default second", i, res, res.Rematch)
		}
	}
	res, err := d.Tune(repeatedSaxpyRequest("n=65536 costlier", "once", []string{"once", "twice"}, []int{1, 2}))
	if err != nil {
		t.Fatal(err)
	}
	if res.Variant != "once" || res.Rematch != nil {
		t.Fatalf("default once vs twice: %+v, want once kept without a rematch", res)
	}
}
