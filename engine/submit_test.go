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
// training loop pipelines them: step k copies host input buffer k%2 into x
// and runs saxpy, submitted without waiting, while the host uploads step
// k+1's data into the other input buffer. The validation layer
// (synchronization validation on) watches the overlap; every step's y must
// be exact. With staging forced (a discrete GPU's placement), the host
// buffers are still written directly: no staging buffer is made for them.
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
	var in [2]*engine.Tensor
	var copyIn [2]*engine.Sequence
	x, err := d.NewTensor("x", engine.Float32, n)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Free()
	y, err := d.NewTensor("y", engine.Float32, n)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Free()
	for k := range in {
		if in[k], err = d.NewHostTensor("input", engine.Float32, n); err != nil {
			t.Fatal(err)
		}
		defer in[k].Free()
		if copyIn[k], err = d.NewSequence("copy-in", engine.SequenceOptions{}); err != nil {
			t.Fatal(err)
		}
		defer copyIn[k].Release()
		copyIn[k].Copy(x, in[k])
	}
	step, err := d.NewSequence("step", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer step.Release()
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
	for k := 0; k < steps; k++ {
		p, err := d.Submit(copyIn[k%2], step)
		if err != nil {
			t.Fatal(err)
		}
		if k == 0 {
			if _, err := d.Submit(step); err == nil || !strings.Contains(err.Error(), "still pending") {
				t.Errorf("resubmitting a pending sequence: got %v, want a 'still pending' error", err)
			}
			if err := d.Run(step); err == nil || !strings.Contains(err.Error(), "pending") {
				t.Errorf("running a pending sequence: got %v, want a 'pending' error", err)
			}
		}
		if k+1 < steps { // the next step's input, while this one runs
			if err := in[(k+1)%2].Upload(data[k+1]); err != nil {
				t.Fatal(err)
			}
		}
		if err := p.Wait(); err != nil {
			t.Fatal(err)
		}
		if err := p.Wait(); err != nil {
			t.Fatalf("second wait: %v", err)
		}
		for i := range want {
			want[i] = a*data[k][i] + want[i]
		}
		got, err := y.Floats()
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("step %d: y[%d] = %v, want %v", k, i, got[i], want[i])
			}
		}
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
