package net_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/net"
)

// TestForwardPlanKeepsResults runs one batch through two train-mode graphs
// of efficientnetv2-pico (batch statistics, no regularization, so both
// compute the same thing): one with a backward pass, which keeps every
// activation, and a forward-only one, whose memory plan reuses the buffers
// of finished activations. Logits and feature maps must be bitwise equal,
// and the forward-only graph must hold its activations in fewer buffers.
func TestForwardPlanKeepsResults(t *testing.T) {
	d := enginetest.Open(t)
	m := newPicoModel(t, d, 7)
	const n, size = 3, 40
	x := randomImages(t, n, size)
	run := func(backward bool) (logits []float32, maps [][]float32, acts, bufs int) {
		gc := net.GraphConfig{Batch: n, Size: size, Train: true, Backward: backward}
		g, err := m.Record(gc, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer g.Free()
		if err := g.Input.Upload(x); err != nil {
			t.Fatal(err)
		}
		if backward {
			if err := g.Labels.Upload([]int32{1, 2, 3}); err != nil {
				t.Fatal(err)
			}
		}
		if err := g.Run(); err != nil {
			t.Fatal(err)
		}
		logits = download(t, g.Logits)
		for _, fm := range g.FeatureMaps() {
			maps = append(maps, download(t, fm))
		}
		acts, bufs = g.ActivationPlan()
		return logits, maps, acts, bufs
	}
	wantLogits, wantMaps, wantActs, wantBufs := run(true)
	gotLogits, gotMaps, acts, bufs := run(false)
	if wantBufs != wantActs {
		t.Errorf("the graph with a backward pass holds %d activations in %d buffers: it must keep them all", wantActs, wantBufs)
	}
	if acts != wantActs || bufs >= acts {
		t.Errorf("forward-only plan: %d activations in %d buffers, want %d activations in fewer buffers", acts, bufs, wantActs)
	}
	t.Logf("forward-only graph: %d activations in %d buffers", acts, bufs)
	sameFloats(t, "logits", gotLogits, wantLogits)
	if len(gotMaps) != len(wantMaps) || len(gotMaps) < 2 {
		t.Fatalf("%d feature maps, want %d (at least 2)", len(gotMaps), len(wantMaps))
	}
	for i := range wantMaps {
		sameFloats(t, fmt.Sprintf("feature map %d", i), gotMaps[i], wantMaps[i])
	}
	enginetest.Check(t, d)
}

func download(t *testing.T, x *engine.Tensor) []float32 {
	t.Helper()
	v := make([]float32, x.Len())
	if err := x.Download(v); err != nil {
		t.Fatal(err)
	}
	return v
}

func sameFloats(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range want {
		if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
			t.Fatalf("%s: element %d is %v, want bitwise %v", what, i, got[i], want[i])
		}
	}
}
