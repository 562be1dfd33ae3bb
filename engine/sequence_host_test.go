package engine_test

import (
	"errors"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/shaders"
)

// TestHostCall: a host function between two dispatches sees the first's
// result and its upload is what the second reads, on every replay; its
// error stops Run.
func TestHostCall(t *testing.T) {
	d := enginetest.Open(t)
	saxpy, err := d.Kernel("saxpy")
	if err != nil {
		t.Fatal(err)
	}
	const n = 37
	x, _ := d.NewTensor("x", engine.Float32, n)
	y, _ := d.NewTensor("y", engine.Float32, n)
	defer x.Free()
	defer y.Free()
	s, err := d.NewSequence("host call", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	var seen []float32
	var fail error
	s.Dispatch1D(saxpy, n, shaders.SaxpyPush{N: n, A: 2}, x, y) // y = 2x + y
	s.HostCall(func() error {
		if fail != nil {
			return fail
		}
		v, err := y.Floats()
		if err != nil {
			return err
		}
		seen = append([]float32(nil), v...)
		for i := range v {
			v[i] *= 10
		}
		return y.Upload(v)
	})
	s.Dispatch1D(saxpy, n, shaders.SaxpyPush{N: n, A: 1}, x, y) // y = x + y
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	for rep := 0; rep < 3; rep++ {
		xs, ys := make([]float32, n), make([]float32, n)
		for i := range xs {
			xs[i], ys[i] = float32(i+rep), float32(3*i)
		}
		x.Upload(xs)
		y.Upload(ys)
		if err := d.Run(s); err != nil {
			t.Fatal(err)
		}
		got, _ := y.Floats()
		for i := range got {
			mid := 2*xs[i] + ys[i]
			if seen[i] != mid || got[i] != 10*mid+xs[i] {
				t.Fatalf("replay %d element %d: host saw %v (want %v), result %v (want %v)", rep, i, seen[i], mid, got[i], 10*mid+xs[i])
			}
		}
	}
	fail = errors.New("no peer")
	if err := d.Run(s); !errors.Is(err, fail) {
		t.Fatalf("a failing host call: Run returned %v", err)
	}
}
