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

// TestSmallTensorsMapped: where tensors are reached through staging but the
// device has device-local host-visible memory (a discrete GPU's BAR window;
// lavapipe under EFFV2VK_FORCE_STAGING=bar), tensors of up to 64 KiB live
// there, mapped: their uploads and downloads make no staging buffer, and
// kernels read and write them; a larger tensor still goes through staging.
func TestSmallTensorsMapped(t *testing.T) {
	t.Setenv("EFFV2VK_FORCE_STAGING", "bar")
	d := enginetest.Open(t)
	if d.TensorsMapped() {
		t.Fatal("EFFV2VK_FORCE_STAGING=bar: tensors are mapped")
	}
	const n = 16 << 10 // 64 KiB of float32
	small, err := d.NewTensor("step counters", engine.Float32, n)
	if err != nil {
		t.Fatal(err)
	}
	defer small.Free()
	if !small.Small() {
		t.Fatal("a 64 KiB tensor is not in small-tensor memory")
	}
	r := rand.New(rand.NewPCG(5, 6))
	want := randFloats(r, n)
	if err := small.Upload(want); err != nil {
		t.Fatal(err)
	}
	got, err := small.Floats()
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("element %d: %v after the round trip, want %v", i, got[i], want[i])
		}
	}
	if s := d.Memory().Staging; s != 0 {
		t.Fatalf("transfers of a small tensor made %d bytes of staging buffers", s)
	}
	fill, err := d.Kernel("fill")
	if err != nil {
		t.Fatal(err)
	}
	s, err := d.NewSequence("fill small", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	s.Dispatch1D(fill, n, shaders.FillPush{N: n, Value: 2.5}, small)
	if err := d.Run(s); err != nil {
		t.Fatal(err)
	}
	if got, _ = small.Floats(); got[0] != 2.5 || got[n-1] != 2.5 {
		t.Fatalf("the kernel's writes read back as %v, %v; want 2.5", got[0], got[n-1])
	}
	big, err := d.NewTensor("activations", engine.Float32, n+1)
	if err != nil {
		t.Fatal(err)
	}
	defer big.Free()
	if big.Small() {
		t.Fatal("a tensor over 64 KiB is in small-tensor memory")
	}
	checkRoundTrip(t, d, r, n+1)
	if d.Memory().Staging == 0 {
		t.Fatal("a tensor over 64 KiB was transferred without staging")
	}
	t.Setenv("EFFV2VK_FORCE_STAGING", "1")
	if d1 := enginetest.Open(t); func() bool { x, _ := d1.NewTensor("x", engine.Float32, 4); defer x.Free(); return x.Small() }() {
		t.Fatal("EFFV2VK_FORCE_STAGING=1 must stage every tensor, small ones too")
	}
}
