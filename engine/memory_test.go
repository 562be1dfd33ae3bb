package engine_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/shaders"
)

// TestForcedStaging runs uploads and downloads through staging buffers (as on
// a discrete GPU), including one larger than a staging chunk, and checks the
// staging memory is sized to the transfers.
func TestForcedStaging(t *testing.T) {
	t.Setenv("EFFV2VK_FORCE_STAGING", "1")
	d := enginetest.Open(t)
	if d.TensorsMapped() {
		t.Fatal("EFFV2VK_FORCE_STAGING=1: tensors are still mapped")
	}
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 5, 1001, 17<<20 + 3} {
		checkRoundTrip(t, d, r, n)
		if n == 5 {
			if s := d.Memory().Staging; s > 256<<10 {
				t.Errorf("after 20-byte transfers, %d bytes of staging are held", s)
			}
		}
	}
	// Slices transfer at their own offset.
	x, _ := d.NewTensor("x", engine.Float32, 64)
	defer x.Free()
	x.Upload(make([]float32, 64))
	hi, err := x.Slice("hi", 32, 32)
	if err != nil {
		t.Fatal(err)
	}
	ones := make([]float32, 32)
	for i := range ones {
		ones[i] = 1
	}
	if err := hi.Upload(ones); err != nil {
		t.Fatal(err)
	}
	all, _ := x.Floats()
	for i, v := range all {
		if want := float32(i / 32); v != want {
			t.Fatalf("element %d: %v, want %v", i, v, want)
		}
	}
}

// TestBindingBeyondRange: a tensor may be larger than maxStorageBufferRange;
// binding all of it fails with ErrBindingTooLarge, binding a slice within
// the limit works.
func TestBindingBeyondRange(t *testing.T) {
	t.Setenv("EFFV2VK_MAX_STORAGE_RANGE", "65536")
	d := enginetest.Open(t)
	if d.Info.MaxStorageBufferRange != 65536 {
		t.Fatalf("maxStorageBufferRange %d, want the switch's 65536", d.Info.MaxStorageBufferRange)
	}
	n := 3 * d.MaxBindingElements(engine.Float32) / 2
	x, err := d.NewTensor("big", engine.Float32, n)
	if err != nil {
		t.Fatalf("a tensor beyond the binding limit: %v", err)
	}
	defer x.Free()
	fill, err := d.Kernel("fill")
	if err != nil {
		t.Fatal(err)
	}
	s, _ := d.NewSequence("whole", engine.SequenceOptions{})
	s.Dispatch1D(fill, n, shaders.FillPush{N: uint32(n), Value: 1}, x)
	if err := s.Finish(); !errors.Is(err, engine.ErrBindingTooLarge) {
		t.Fatalf("binding %d bytes: want ErrBindingTooLarge, got %v", 4*n, err)
	}
	s.Release()
	m := d.MaxBindingElements(engine.Float32)
	lo, _ := x.Slice("lo", 0, m)
	hi, err := x.Slice("hi", m, n-m)
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Free()
	defer hi.Free()
	s, _ = d.NewSequence("split", engine.SequenceOptions{})
	defer s.Release()
	s.Dispatch1D(fill, m, shaders.FillPush{N: uint32(m), Value: 1}, lo)
	s.Dispatch1D(fill, n-m, shaders.FillPush{N: uint32(n - m), Value: 2}, hi)
	if err := d.Run(s); err != nil {
		t.Fatal(err)
	}
	got, _ := x.Floats()
	for i, v := range got {
		if want := float32(1 + i/m); v != want {
			t.Fatalf("element %d: %v, want %v", i, v, want)
		}
	}
}

// TestTexelViewOfOddSlice: with the offset alignment AMD reports (4 bytes),
// slices are still laid out at 16 bytes, and an RGBA32F view of a slice whose
// length is not a multiple of 4 floats, ending at its buffer's end, is valid.
func TestTexelViewOfOddSlice(t *testing.T) {
	t.Setenv("EFFV2VK_OFFSET_ALIGNMENT", "4")
	d := enginetest.Open(t)
	if a := d.OffsetAlignment(); a != 16 {
		t.Fatalf("OffsetAlignment %d with a 4-byte device alignment, want 16", a)
	}
	x, _ := d.NewTensor("x", engine.Float32, 4+102)
	defer x.Free()
	if _, err := x.Slice("odd", 1, 4); err == nil {
		t.Fatal("slice at a 4-byte offset: no error")
	}
	a, _ := x.Slice("a", 0, 4)
	b, err := x.Slice("b", 4, 102)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Free()
	defer b.Free()
	in := make([]float32, 106)
	for i := range in {
		in[i] = float32(i)
	}
	x.Upload(in)
	saxpy, _ := d.Kernel("saxpy_texel")
	s, _ := d.NewSequence("odd", engine.SequenceOptions{})
	defer s.Release()
	// b[0:4] += 2*a: saxpy reads its x through an RGBA32F view.
	bHead, _ := x.Slice("b0", 4, 4)
	defer bHead.Free()
	s.Dispatch1D(saxpy, 4, shaders.SaxpyPush{N: 4, A: 2}, a, bHead)
	s.Dispatch1D(saxpy, 4, shaders.SaxpyPush{N: 4, A: 1}, b, a) // a += b[0:4], viewing all 102 of b
	if err := d.Run(s); err != nil {
		t.Fatal(err)
	}
	got, _ := x.Floats()
	for i := 0; i < 4; i++ {
		bi := float32(4+i) + 2*float32(i)
		if got[4+i] != bi || got[i] != float32(i)+bi {
			t.Fatalf("element %d: a %v b %v", i, got[i], got[4+i])
		}
	}
}
