package engine_test

import (
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/shaders"
)

func randFloats(r *rand.Rand, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64())
	}
	return out
}

func TestRoundTrip(t *testing.T) {
	d := enginetest.Open(t)
	r := rand.New(rand.NewPCG(1, 2))
	for _, n := range []int{1, 3, 7, 1001, 3 << 20} {
		checkRoundTrip(t, d, r, n)
	}
	b, err := d.NewTensor("bytes", engine.Uint8, 5, 3)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Free()
	in := []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}
	if err := b.Upload(in); err != nil {
		t.Fatal(err)
	}
	out := make([]uint8, 15)
	if err := b.Download(out); err != nil {
		t.Fatal(err)
	}
	if string(in) != string(out) {
		t.Fatalf("uint8 round trip: %v", out)
	}
	if err := b.Upload(make([]float32, 15)); err == nil || !strings.Contains(err.Error(), "got 60 bytes of float32, want 15 bytes of uint8") {
		t.Fatalf("upload of float32 into a uint8 tensor: %v", err)
	}
	if err := b.Upload(make([]uint8, 14)); err == nil || !strings.Contains(err.Error(), "got 14 bytes of uint8, want 15 bytes of uint8") {
		t.Fatalf("upload of the wrong length: %v", err)
	}
}

func TestAllocationErrors(t *testing.T) {
	d := enginetest.Open(t)
	if _, err := d.NewTensor("empty", engine.Float32, 0); err == nil || !strings.Contains(err.Error(), "non-positive") {
		t.Fatalf("zero-size tensor: %v", err)
	}
	if _, err := d.NewTensor("scalarless", engine.Float32); err == nil || !strings.Contains(err.Error(), "zero-size") {
		t.Fatalf("shapeless tensor: %v", err)
	}
	// Fill the heap: the error must say out of device memory, not crash.
	var held []*engine.Tensor
	defer func() {
		for _, h := range held {
			h.Free()
		}
	}()
	per := int(d.Info.MaxStorageBufferRange / 4)
	var heap uint64
	for _, h := range d.Info.Heaps {
		heap += h.Size
	}
	for i := 0; i < int(heap/d.Info.MaxStorageBufferRange)+4; i++ {
		x, err := d.NewTensor("filler", engine.Float32, per)
		if err != nil {
			if !errors.Is(err, engine.ErrOutOfDeviceMemory) {
				t.Fatalf("allocation %d: want ErrOutOfDeviceMemory, got %v", i, err)
			}
			return
		}
		held = append(held, x)
	}
	t.Fatalf("allocated %d tensors of %d MiB without running out", len(held), per*4>>20)
}

func TestUnknownKernel(t *testing.T) {
	d := enginetest.Open(t)
	_, err := d.Kernel("no_such_kernel")
	if err == nil || !strings.Contains(err.Error(), "unknown kernel") || !strings.Contains(err.Error(), "saxpy") {
		t.Fatalf("unknown kernel: %v", err)
	}
	if _, err := d.Kernel("saxpy", engine.Spec{ID: 7, Value: 1}); err == nil || !strings.Contains(err.Error(), "no specialization constant with id 7") {
		t.Fatalf("unknown specialization constant: %v", err)
	}
}

func TestEveryKernelBuilds(t *testing.T) {
	d := enginetest.Open(t)
	for _, name := range shaders.Names() {
		if _, err := d.Kernel(name); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestFillAndSaxpy(t *testing.T) {
	d := enginetest.Open(t)
	r := rand.New(rand.NewPCG(3, 4))
	fill, err := d.Kernel("fill")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"saxpy", "saxpy_texel"} {
		saxpy, err := d.Kernel(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{1, 5, 63, 64, 65, 1000, 100003} {
			x, _ := d.NewTensor("x", engine.Float32, n)
			y, _ := d.NewTensor("y", engine.Float32, n)
			xs, ys := randFloats(r, n), randFloats(r, n)
			if err := x.Upload(xs); err != nil {
				t.Fatal(err)
			}
			if err := y.Upload(ys); err != nil {
				t.Fatal(err)
			}
			seq, err := d.NewSequence("saxpy", engine.SequenceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			const a = 0.75
			seq.Dispatch1D(saxpy, n, shaders.SaxpyPush{N: uint32(n), A: a}, x, y)
			if err := d.Run(seq); err != nil {
				t.Fatal(err)
			}
			got, _ := y.Floats()
			for i := range got {
				if want := a*xs[i] + ys[i]; got[i] != want {
					t.Fatalf("%s n=%d: y[%d] = %v, want %v", name, n, i, got[i], want)
				}
			}
			seq.Release()
			// fill with NaN, as tests poison outputs.
			seq, _ = d.NewSequence("fill", engine.SequenceOptions{})
			seq.Dispatch1D(fill, n, shaders.FillPush{N: uint32(n), Value: float32(math.NaN())}, y)
			if err := d.Run(seq); err != nil {
				t.Fatal(err)
			}
			got, _ = y.Floats()
			for i := range got {
				if !math.IsNaN(float64(got[i])) {
					t.Fatalf("fill: y[%d] = %v", i, got[i])
				}
			}
			seq.Release()
			x.Free()
			y.Free()
		}
	}
}

func TestDispatchErrors(t *testing.T) {
	d := enginetest.Open(t)
	saxpy, _ := d.Kernel("saxpy")
	x, _ := d.NewTensor("x", engine.Float32, 8)
	defer x.Free()
	y, _ := d.NewTensor("y", engine.Float32, 8)
	defer y.Free()
	align := d.OffsetAlignment() / 4 // elements
	whole, _ := d.NewTensor("whole", engine.Float32, 4*align)
	defer whole.Free()
	front, _ := whole.Slice("front", 0, 2*align)
	back, _ := whole.Slice("back", align, 2*align) // overlaps front
	apart, _ := whole.Slice("apart", 2*align, align)
	cases := []struct {
		name string
		rec  func(s *engine.Sequence)
		want string
	}{
		{"binding count", func(s *engine.Sequence) { s.Dispatch1D(saxpy, 8, shaders.SaxpyPush{N: 8}, x) }, "takes 2 bindings"},
		{"push size", func(s *engine.Sequence) { s.Dispatch1D(saxpy, 8, shaders.FillPush{N: 8}, x, y) }, ""},
		{"push type", func(s *engine.Sequence) { s.Dispatch1D(saxpy, 8, struct{ N uint32 }{8}, x, y) }, "push constants"},
		{"missing push", func(s *engine.Sequence) { s.Dispatch1D(saxpy, 8, nil, x, y) }, "needs 8 bytes"},
		{"grid", func(s *engine.Sequence) {
			s.Dispatch(saxpy, engine.Grid{X: 1 << 20, Y: 1, Z: 1}, shaders.SaxpyPush{N: 8}, x, y)
		}, "grid"},
		{"nil tensor", func(s *engine.Sequence) { s.Dispatch1D(saxpy, 8, shaders.SaxpyPush{N: 8}, x, nil) }, "nil or freed"},
		// saxpy reads X and writes Y: in place, or over overlapping slices,
		// is refused; disjoint slices of one buffer are fine.
		{"in place", func(s *engine.Sequence) { s.Dispatch1D(saxpy, 8, shaders.SaxpyPush{N: 8}, x, x) }, "do not run in place"},
		{"overlapping slices", func(s *engine.Sequence) { s.Dispatch1D(saxpy, 8, shaders.SaxpyPush{N: 8}, front, back) }, "share memory"},
		{"disjoint slices", func(s *engine.Sequence) {
			s.Dispatch1D(saxpy, align, shaders.SaxpyPush{N: uint32(align)}, front, apart)
		}, ""},
	}
	for _, c := range cases {
		s, err := d.NewSequence(c.name, engine.SequenceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		c.rec(s)
		err = s.Finish()
		if c.want == "" {
			// FillPush has the same size as SaxpyPush: accepted, by design
			// the check is by size; disjoint slices are accepted.
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
		} else if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
		s.Release()
	}
}

// chain records 50 dependent saxpy dispatches: each reads what the one
// before wrote.
func chain(t *testing.T, d *engine.Device, skipAt int) (*engine.Sequence, *engine.Tensor, *engine.Tensor) {
	saxpy, err := d.Kernel("saxpy")
	if err != nil {
		t.Fatal(err)
	}
	const n = 1000
	a, _ := d.NewTensor("a", engine.Float32, n)
	b, _ := d.NewTensor("b", engine.Float32, n)
	s, err := d.NewSequence("chain", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if i == skipAt {
			s.SkipNextBarrier()
		}
		if i%2 == 0 {
			s.Dispatch1D(saxpy, n, shaders.SaxpyPush{N: n, A: 0.5}, a, b) // b += a/2
		} else {
			s.Dispatch1D(saxpy, n, shaders.SaxpyPush{N: n, A: -0.25}, b, a) // a -= b/4
		}
	}
	if err := s.Finish(); err != nil {
		t.Fatal(err)
	}
	return s, a, b
}

func TestChainReplay(t *testing.T) {
	d := enginetest.Open(t)
	s, a, b := chain(t, d, -1)
	defer s.Release()
	defer a.Free()
	defer b.Free()
	if s.Barriers() != 49 {
		t.Errorf("barriers: got %d, want 49 (one between each dependent pair)", s.Barriers())
	}
	r := rand.New(rand.NewPCG(5, 6))
	for rep := 0; rep < 100; rep++ {
		as, bs := randFloats(r, 1000), randFloats(r, 1000)
		wa, wb := append([]float32(nil), as...), append([]float32(nil), bs...)
		for i := 0; i < 50; i++ {
			for j := range wa {
				if i%2 == 0 {
					wb[j] = 0.5*wa[j] + wb[j]
				} else {
					wa[j] = -0.25*wb[j] + wa[j]
				}
			}
		}
		a.Upload(as)
		b.Upload(bs)
		if err := d.Run(s); err != nil {
			t.Fatal(err)
		}
		ga, _ := a.Floats()
		gb, _ := b.Floats()
		for j := range ga {
			if ga[j] != wa[j] || gb[j] != wb[j] {
				t.Fatalf("replay %d: element %d: a %v/%v b %v/%v", rep, j, ga[j], wa[j], gb[j], wb[j])
			}
		}
	}
}

func TestMissingBarrierIsReported(t *testing.T) {
	d := enginetest.Open(t)
	s, a, b := chain(t, d, 25)
	if s.Barriers() != 48 {
		t.Errorf("barriers: got %d, want 48", s.Barriers())
	}
	if err := d.Run(s); err != nil {
		t.Fatal(err)
	}
	s.Release()
	a.Free()
	b.Free()
	// The skipped barrier separates "b += a/2" from "a -= b/4": the second
	// reads b after the first wrote it and writes a after the first read
	// it. Exactly these two hazards are expected; any other message still
	// fails the test when the device closes.
	for _, hazard := range []string{"SYNC-HAZARD-READ-AFTER-WRITE", "SYNC-HAZARD-WRITE-AFTER-READ"} {
		if got := enginetest.TakeMessages(d, hazard); len(got) != 1 {
			t.Errorf("synchronization validation reported %d %s message(s) for the missing barrier, want 1: %q", len(got), hazard, got)
		}
	}
}

// TestValidationMessagesStayWithTheirDevice checks that a device's messages
// are its own: a device opened after one that logged a hazard starts clean,
// and the first still holds its messages after Close.
func TestValidationMessagesStayWithTheirDevice(t *testing.T) {
	first, err := engine.Open(engine.Options{Validate: true, PipelineCacheDir: "-"})
	if err != nil {
		enginetest.FailOpen(t, err)
	}
	t.Cleanup(func() { first.Close() }) // on an early failure; Close is idempotent
	s, a, b := chain(t, first, 10)
	if err := first.Run(s); err != nil {
		t.Fatal(err)
	}
	s.Release()
	a.Free()
	b.Free()
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	second := enginetest.Open(t)
	if got := second.ValidationMessages(); len(got) != 0 {
		t.Errorf("a new device holds %d message(s) of the one before it, the first: %s", len(got), got[0])
	}
	hazards := first.TakeValidationMessages(func(m string) bool { return strings.Contains(m, "SYNC-HAZARD-") })
	if len(hazards) != 2 {
		t.Errorf("the closed device holds %d hazard message(s), want its 2: %q", len(hazards), hazards)
	}
	for _, m := range first.ValidationMessages() {
		t.Errorf("unexpected validation message: %s", m)
	}
}

func TestProfile(t *testing.T) {
	d := enginetest.Open(t)
	saxpy, _ := d.Kernel("saxpy")
	fill, _ := d.Kernel("fill")
	x, _ := d.NewTensor("x", engine.Float32, 4096)
	y, _ := d.NewTensor("y", engine.Float32, 4096)
	defer x.Free()
	defer y.Free()
	s, err := d.NewSequence("profiled", engine.SequenceOptions{Profile: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	s.Dispatch1D(fill, 4096, shaders.FillPush{N: 4096, Value: 1}, x)
	s.Dispatch1D(fill, 4096, shaders.FillPush{N: 4096, Value: 2}, y)
	for i := 0; i < 3; i++ {
		s.Dispatch1D(saxpy, 4096, shaders.SaxpyPush{N: 4096, A: 1}, x, y)
	}
	for i := 0; i < 2; i++ {
		if err := d.Run(s); err != nil {
			t.Fatal(err)
		}
	}
	p := s.Profile()
	counts := map[string]int{}
	for _, k := range p {
		counts[k.Name] = k.Count
		if k.Total <= 0 {
			t.Errorf("%s: total %v", k.Name, k.Total)
		}
	}
	if counts["saxpy"] != 6 || counts["fill"] != 4 {
		t.Fatalf("profile counts %v, want saxpy 6 fill 4", counts)
	}
	var sb strings.Builder
	engine.WriteProfile(&sb, p, 0)
	if !strings.Contains(sb.String(), "saxpy") {
		t.Fatalf("profile table: %s", sb.String())
	}
}

func TestSlice(t *testing.T) {
	d := enginetest.Open(t)
	saxpy, _ := d.Kernel("saxpy_texel")
	x, _ := d.NewTensor("x", engine.Float32, 256)
	defer x.Free()
	xs := make([]float32, 256)
	for i := range xs {
		xs[i] = float32(i)
	}
	x.Upload(xs)
	lo, err := x.Slice("lo", 0, 128)
	if err != nil {
		t.Fatal(err)
	}
	hi, err := x.Slice("hi", 128, 128)
	if err != nil {
		t.Fatal(err)
	}
	defer lo.Free()
	defer hi.Free()
	s, _ := d.NewSequence("slices", engine.SequenceOptions{})
	defer s.Release()
	s.Dispatch1D(saxpy, 128, shaders.SaxpyPush{N: 128, A: 2}, lo, hi) // hi += 2*lo
	if err := d.Run(s); err != nil {
		t.Fatal(err)
	}
	got, _ := x.Floats()
	for i := 0; i < 128; i++ {
		if got[i] != float32(i) || got[128+i] != float32(128+i+2*i) {
			t.Fatalf("element %d: %v %v", i, got[i], got[128+i])
		}
	}
	if _, err := x.Slice("bad", 1, 4); err == nil || !strings.Contains(err.Error(), "is not a multiple of the device's buffer offset alignment") {
		t.Fatalf("misaligned slice: %v", err)
	}
	if _, err := x.Slice("out", 250, 8); err == nil || !strings.Contains(err.Error(), "[250, 258) is outside") {
		t.Fatalf("slice past the end: %v", err)
	}
}

func TestSelectDevice(t *testing.T) {
	devs, def, err := engine.ListDevices()
	if err != nil {
		enginetest.FailOpen(t, err)
	}
	if def < 0 {
		t.Fatal("no default device")
	}
	i, err := engine.SelectDevice(devs, "0")
	if err != nil || i != 0 {
		t.Fatalf("select by index: %d %v", i, err)
	}
	name := devs[def].Name
	i, err = engine.SelectDevice(devs, strings.ToUpper(name[:4]))
	if err != nil || i != def {
		t.Fatalf("select by name %q: %d %v", name[:4], i, err)
	}
	if _, err := engine.SelectDevice(devs, "no-such-gpu"); err == nil || !strings.Contains(err.Error(), "no device matches") {
		t.Fatalf("unknown name: %v", err)
	}
	if _, err := engine.SelectDevice(devs, "99"); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("bad index: %v", err)
	}
	d := enginetest.OpenWith(t, engine.Options{Select: name[:4]})
	if d.Info.Name != name {
		t.Errorf("opened %q, want %q", d.Info.Name, name)
	}
}

func TestDefaultPrefersDiscrete(t *testing.T) {
	devs := []engine.DeviceInfo{
		{Index: 0, Name: "llvmpipe", Type: engine.CPU, Supported: true},
		{Index: 1, Name: "Intel UHD", Type: engine.IntegratedGPU, Supported: true},
		{Index: 2, Name: "old GPU", Type: engine.DiscreteGPU, Supported: false},
		{Index: 3, Name: "Radeon", Type: engine.DiscreteGPU, Supported: true},
	}
	if got := engine.DefaultDevice(devs); got != 3 {
		t.Fatalf("default: got %d, want 3", got)
	}
	if _, err := engine.SelectDevice(devs, "2"); err == nil || !strings.Contains(err.Error(), "device 2 (old GPU) is not supported") {
		t.Fatalf("unsupported device: %v", err)
	}
	if _, err := engine.SelectDevice(devs, "i"); err == nil || !strings.Contains(err.Error(), "more than one") {
		t.Fatalf("ambiguous name: %v", err)
	}
}

// checkRoundTrip uploads n random floats to a new tensor on d and checks
// that they download bit for bit.
func checkRoundTrip(t *testing.T, d *engine.Device, r *rand.Rand, n int) {
	t.Helper()
	x, err := d.NewTensor("x", engine.Float32, n)
	if err != nil {
		t.Fatal(err)
	}
	in := randFloats(r, n)
	if err := x.Upload(in); err != nil {
		t.Fatal(err)
	}
	out, err := x.Floats()
	if err != nil {
		t.Fatal(err)
	}
	for i := range in {
		if in[i] != out[i] {
			t.Fatalf("n=%d: element %d: got %v want %v", n, i, out[i], in[i])
		}
	}
	x.Free()
}
