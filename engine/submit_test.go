package engine_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/shaders"
)

// TestSubmitOverlapsUploadIntoOtherBuffer runs steps y += a*x the way the
// training loop pipelines them: step k copies host input buffer k%2 into x,
// runs saxpy and copies y out to host buffer k%2; it is queued while step
// k-1 still runs (the same saxpy sequence pending twice), after the host
// wrote step k's data into its input buffer, and step k-1's y is read once
// it is done. The validation layer (synchronization validation on) watches
// the overlap; every step's y must be exact. With staging forced (a
// discrete GPU's placement), the host buffers are still written directly:
// no staging buffer is made for them.
func TestSubmitOverlapsUploadIntoOtherBuffer(t *testing.T) {
	t.Run("mapped tensors", func(t *testing.T) { testSubmitOverlap(t) })
	t.Run("forced staging", func(t *testing.T) {
		t.Setenv("EFFV2VK_FORCE_STAGING", "1")
		testSubmitOverlap(t)
	})
}

func testSubmitOverlap(t *testing.T) {
	d := enginetest.Open(t)
	saxpy, err := d.Kernel("saxpy")
	if err != nil {
		t.Fatal(err)
	}
	const n, steps, a = 1003, 6, 0.5
	r := rand.New(rand.NewPCG(9, 10))
	newTensor := func(host bool, name string) *engine.Tensor {
		make := d.NewTensor
		if host {
			make = d.NewHostTensor
		}
		x, err := make(name, engine.Float32, n)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(x.Free)
		return x
	}
	newSequence := func(name string) *engine.Sequence {
		s, err := d.NewSequence(name, engine.SequenceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(s.Release)
		return s
	}
	x, y := newTensor(false, "x"), newTensor(false, "y")
	var in, out [2]*engine.Tensor
	var copyIn, copyOut [2]*engine.Sequence
	for k := range in {
		in[k], out[k] = newTensor(true, "input"), newTensor(true, "output")
		copyIn[k], copyOut[k] = newSequence("copy-in"), newSequence("copy-out")
		copyIn[k].Copy(x, in[k])
		copyOut[k].Copy(out[k], y)
	}
	step := newSequence("step")
	step.Dispatch1D(saxpy, n, shaders.SaxpyPush{N: n, A: a}, x, y)

	data := make([][]float32, steps)
	for k := range data {
		data[k] = randFloats(r, n)
	}
	if err := in[0].Upload(data[0]); err != nil {
		t.Fatal(err)
	}
	if s := d.Memory().Staging; s != 0 {
		t.Fatalf("an upload to a host tensor made %d bytes of staging buffers", s)
	}
	want := randFloats(r, n)
	if err := y.Upload(want); err != nil {
		t.Fatal(err)
	}
	var running *engine.Pending
	for k := 0; k <= steps; k++ {
		var next *engine.Pending
		if k < steps {
			if k > 0 { // step k-1 runs; step k-2, which read this buffer, is done
				if err := in[k%2].Upload(data[k]); err != nil {
					t.Fatal(err)
				}
			}
			if next, err = d.Submit(copyIn[k%2], step, copyOut[k%2]); err != nil {
				t.Fatal(err)
			}
			if k == 1 {
				if err := d.Run(step); err == nil || !strings.Contains(err.Error(), "pending") {
					t.Errorf("running a pending sequence: got %v, want a 'pending' error", err)
				}
			}
		}
		if running != nil {
			if err := running.Wait(); err != nil {
				t.Fatal(err)
			}
			if err := running.Wait(); err != nil {
				t.Fatalf("second wait: %v", err)
			}
			for i := range want {
				want[i] = a*data[k-1][i] + want[i]
			}
			got, err := out[(k-1)%2].Floats()
			if err != nil {
				t.Fatal(err)
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("step %d: y[%d] = %v, want %v", k-1, i, got[i], want[i])
				}
			}
		}
		running = next
	}
}

// TestSubmitRefusesHostCalls: a sequence that stops for the host cannot be
// queued without waiting.
func TestSubmitRefusesHostCalls(t *testing.T) {
	d := enginetest.Open(t)
	s, err := d.NewSequence("with-host-call", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	s.HostCall(func() error { return nil })
	if _, err := d.Submit(s); err == nil || !strings.Contains(err.Error(), "host calls") {
		t.Fatalf("got %v, want a 'host calls' error", err)
	}
	if _, err := d.Submit(); err == nil {
		t.Fatal("a submit of no sequence was accepted")
	}
}

// TestSubmitRefusesPendingProfiledSequence: a profiled sequence is not
// queued again before its timestamps were read.
func TestSubmitRefusesPendingProfiledSequence(t *testing.T) {
	d := enginetest.Open(t)
	if !d.Info.TimestampsOnCompute {
		t.Skip("no timestamps on this device's compute queue") // lavapipe has them
	}
	fill, err := d.Kernel("fill")
	if err != nil {
		t.Fatal(err)
	}
	y, err := d.NewTensor("y", engine.Float32, 64)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Free()
	s, err := d.NewSequence("profiled", engine.SequenceOptions{Profile: true})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	s.Dispatch1D(fill, 64, shaders.FillPush{N: 64, Value: 1}, y)
	p, err := d.Submit(s)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.Submit(s); err == nil || !strings.Contains(err.Error(), "still pending") {
		t.Errorf("queueing a pending profiled sequence: got %v, want a 'still pending' error", err)
	}
	if err := p.Wait(); err != nil {
		t.Fatal(err)
	}
	if k := s.Profile(); len(k) != 1 || k[0].Count != 1 {
		t.Errorf("profile after one submission: %+v, want one kernel run once", k)
	}
}
