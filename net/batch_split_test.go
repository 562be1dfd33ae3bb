package net_test

import (
	"math/rand/v2"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/net"
)

// splitStep runs efficientnetv2-pico at batch 3, 64x64 on d: an eval-mode
// forward (its logits) and one training forward and backward with drop
// path (its loss and gradients), and the training graph's dispatch count.
func splitStep(t *testing.T, d *engine.Device) (evalLogits, loss, grads []float32, dispatches int) {
	t.Helper()
	const n, size = 3, 64
	m := newPicoModel(t, d, 21)
	r := rand.New(rand.NewPCG(8, 9)) // the same images on both devices
	x := make([]float32, n*3*size*size)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	eval, err := m.Record(net.GraphConfig{Batch: n, Size: size}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer eval.Free()
	if err := eval.Input.Upload(x); err != nil {
		t.Fatal(err)
	}
	if err := eval.Run(); err != nil {
		t.Fatal(err)
	}
	evalLogits = download(t, eval.Logits)
	train, err := m.Record(net.GraphConfig{Batch: n, Size: size, Train: true, UpdateRunning: true, Backward: true, Regularize: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer train.Free()
	if err := train.Input.Upload(x); err != nil {
		t.Fatal(err)
	}
	if err := train.Labels.Upload([]int32{1, 5, 9}); err != nil {
		t.Fatal(err)
	}
	if err := train.SetRNG(5, 1); err != nil {
		t.Fatal(err)
	}
	if err := train.Run(); err != nil {
		t.Fatal(err)
	}
	return evalLogits, download(t, train.Loss), download(t, m.Store.Grads), train.Seq.Dispatches()
}

// TestBatchSplitNetwork runs efficientnetv2-pico with a 128 KiB binding
// limit, below its input, stem and expansion activations at batch 3, 64x64
// (up to 192 KiB; 64 KiB per image), so those layers run in slices of the
// batch, and compares with the device as it is: eval-mode logits (no sum
// over the batch) bitwise, the training loss and every gradient (batch-norm
// statistics and weight gradients sum slice partials) to float32 rounding.
func TestBatchSplitNetwork(t *testing.T) {
	wantLogits, wantLoss, wantGrads, wantDispatches := splitStep(t, enginetest.Open(t))
	t.Setenv("EFFV2VK_MAX_STORAGE_RANGE", "131072")
	d := enginetest.Open(t)
	gotLogits, gotLoss, gotGrads, gotDispatches := splitStep(t, d)
	t.Logf("training step: %d dispatches whole, %d split", wantDispatches, gotDispatches)
	if gotDispatches <= wantDispatches {
		t.Fatalf("%d dispatches under the limit, %d without: nothing was split", gotDispatches, wantDispatches)
	}
	sameFloats(t, "eval logits", gotLogits, wantLogits)
	if err := enginetest.CloseTo(f64(gotLoss), f64(wantLoss), 1e-5); err != nil {
		t.Errorf("loss: %v", err)
	}
	if err := enginetest.CloseTo(f64(gotGrads), f64(wantGrads), 2e-5); err != nil {
		t.Errorf("gradients: %v", err)
	}
	enginetest.Check(t, d)
}

func f64(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, f := range v {
		out[i] = float64(f)
	}
	return out
}
