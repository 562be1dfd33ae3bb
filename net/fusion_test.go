package net_test

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/net"
)

// fusionGraphTol is the tolerance of the fused network against the unfused
// one, relative to the largest value compared (at least 1): folded batch
// norm rounds differently by a few float32 ulps per layer (ops'
// TestFusedForwardMatchesUnfused), which grows through the layers.
const fusionGraphTol = 1e-4

// fusionNoise bounds the values that are zero in exact arithmetic: the
// gradients of a batch norm's bias that feeds, through convs, only batch
// norms with batch statistics (which remove any per-channel shift), and the
// running means of batch norms whose input has a zero batch mean (a conv of
// zero-mean channels): in float32 they are rounding noise of about 1e-8
// that any change of summation order (the fused squeeze-excite gate's, for
// one) changes, sign included. A tensor whose values stay below the bound
// in both graphs is such noise; any other is compared within
// fusionGraphTol.
const fusionNoise = 1e-6

// roundingNoise reports whether both tensors stay below fusionNoise.
func roundingNoise(a, b []float32) bool {
	return maxAbs32(a) < fusionNoise && maxAbs32(b) < fusionNoise
}

// maxAbs32 returns the largest |v[i]|.
func maxAbs32(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(float64(x)))
	}
	return m
}

// TestFusionMatchesUnfused runs efficientnetv2-pico (every block shape:
// fused expand-1 with residual, Fused-MBConv, MBConv with and without
// residual) with the default fusions and with GraphConfig.Unfused: the
// evaluation graph (batch norm folded into the convs, residual sums into
// their epilogues, squeeze-excite's scale into the projection's prologue)
// gives the same logits and feature maps in fewer dispatches; the training
// graph (batch statistics and normalize in one call, residual sums in
// batch norm, squeeze-excite's scale in the projection's forward and weight
// gradient, its input gradient in one pass, the residual blocks' input
// gradients summed by their expansions' data-gradient kernels) the same
// logits, loss and every
// gradient in fewer dispatches, and with the running update folded into the
// statistics' kernels the same running statistics.
func TestFusionMatchesUnfused(t *testing.T) {
	d := enginetest.Open(t)
	m := newPicoModel(t, d, 3)
	const n, size = 2, 32
	x := randomImages(t, n, size)
	labels := []int32{3, 7}

	record := func(gc net.GraphConfig) *net.Graph {
		t.Helper()
		g, err := m.Record(gc, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(g.Free)
		if err := g.Input.Upload(x); err != nil {
			t.Fatal(err)
		}
		if g.Labels != nil {
			if err := g.Labels.Upload(labels); err != nil {
				t.Fatal(err)
			}
		}
		return g
	}
	floatsOf := func(g *net.Graph) [][]float32 {
		t.Helper()
		if err := g.Run(); err != nil {
			t.Fatal(err)
		}
		out := [][]float32{}
		for _, fm := range append(g.FeatureMaps(), g.Logits) {
			v, err := fm.Floats()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		if g.Loss != nil {
			v, err := g.Loss.Floats()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, v)
		}
		return out
	}
	compareAll := func(what string, got, want [][]float32) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d outputs, want %d", what, len(got), len(want))
		}
		for i := range want {
			if err := closeTo32(got[i], want[i], fusionGraphTol, 1); err != nil {
				t.Errorf("%s: output %d of %d: %v", what, i, len(want), err)
			}
		}
	}

	// Training: batch statistics, residual sums fused into batch norm.
	train := net.GraphConfig{Batch: n, Size: size, Train: true, Backward: true}
	fusedTrain, unfusedTrain := record(train), record(withUnfused(train))
	if err := fusedTrain.SetRNG(1, 0); err != nil {
		t.Fatal(err)
	}
	if err := unfusedTrain.SetRNG(1, 0); err != nil {
		t.Fatal(err)
	}
	fused := floatsOf(fusedTrain)
	fusedGrads, err := m.Store.Gradients()
	if err != nil {
		t.Fatal(err)
	}
	unfused := floatsOf(unfusedTrain)
	unfusedGrads, err := m.Store.Gradients()
	if err != nil {
		t.Fatal(err)
	}
	compareAll("train outputs", fused, unfused)
	var noise []string
	for name, want := range unfusedGrads {
		if roundingNoise(want, fusedGrads[name]) {
			noise = append(noise, name)
			continue
		}
		if err := closeTo32(fusedGrads[name], want, fusionGraphTol, 1e-6); err != nil {
			t.Errorf("gradient of %s: %v", name, err)
		}
	}
	slices.Sort(noise)
	t.Logf("%d of %d gradients below %g in both graphs (rounding noise): %v", len(noise), len(unfusedGrads), fusionNoise, noise)
	if f, u := fusedTrain.Seq.Dispatches(), unfusedTrain.Seq.Dispatches(); f >= u {
		t.Errorf("training step: %d dispatches fused, %d unfused: want fewer", f, u)
	}

	// Running statistics: the fused step updates them in the kernels that
	// compute the batch statistics, at no dispatch of its own; the unfused
	// one by a separate update per batch norm. Both from the same start.
	running := net.GraphConfig{Batch: n, Size: size, Train: true, UpdateRunning: true, Backward: true}
	fusedRunning, unfusedRunning := record(running), record(withUnfused(running))
	start, err := m.Store.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	stepStats := func(g *net.Graph) map[string][]float32 {
		t.Helper()
		if err := m.Store.Load(start); err != nil {
			t.Fatal(err)
		}
		floatsOf(g)
		after, err := m.Store.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		return after
	}
	fusedStats, unfusedStats := stepStats(fusedRunning), stepStats(unfusedRunning)
	checked := 0
	var statNoise []string
	for name, want := range unfusedStats {
		if !strings.HasSuffix(name, ".running_mean") && !strings.HasSuffix(name, ".running_var") {
			continue
		}
		if slices.Equal(want, start[name]) {
			t.Errorf("%s: not updated by the unfused step", name)
		}
		checked++
		if roundingNoise(want, fusedStats[name]) {
			statNoise = append(statNoise, name) // a batch mean zero in exact arithmetic (see fusionNoise)
			continue
		}
		if err := closeTo32(fusedStats[name], want, fusionGraphTol, 1e-6); err != nil {
			t.Errorf("%s after one step, fused against unfused: %v", name, err)
		}
	}
	slices.Sort(statNoise)
	t.Logf("%d of %d running statistics below %g in both graphs (rounding noise): %v", len(statNoise), checked, fusionNoise, statNoise)
	if checked == 0 {
		t.Fatal("no running statistics in the snapshot")
	}
	if f, u := fusedRunning.Seq.Dispatches(), fusedTrain.Seq.Dispatches(); f != u {
		t.Errorf("fused training step: %d dispatches with the running update, %d without: want the same", f, u)
	}
	if f, u := unfusedRunning.Seq.Dispatches(), unfusedTrain.Seq.Dispatches(); f <= u {
		t.Errorf("unfused training step: %d dispatches with the running update, %d without: want more", f, u)
	}

	// Move the running statistics away from their initial 0 and 1, so that
	// folding them is tested with real values.
	calibrate := record(net.GraphConfig{Batch: n, Size: size, Train: true, UpdateRunning: true})
	for range 3 {
		if err := calibrate.Run(); err != nil {
			t.Fatal(err)
		}
	}

	// Evaluation: batch norm and residual sums folded into the convs.
	eval := net.GraphConfig{Batch: n, Size: size}
	fusedEval, unfusedEval := record(eval), record(withUnfused(eval))
	compareAll("eval outputs", floatsOf(fusedEval), floatsOf(unfusedEval))
	f, u := fusedEval.Seq.Dispatches(), unfusedEval.Seq.Dispatches()
	t.Logf("eval dispatches: %d fused, %d unfused; training step: %d fused, %d unfused", f, u, fusedTrain.Seq.Dispatches(), unfusedTrain.Seq.Dispatches())
	if f >= u {
		t.Errorf("evaluation: %d dispatches fused, %d unfused: want fewer", f, u)
	}
}

func withUnfused(gc net.GraphConfig) net.GraphConfig {
	gc.Unfused = true
	return gc
}
