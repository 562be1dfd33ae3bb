package optim_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/optim"
)

// TestEMAMatchesReference starts the averages as copies, runs 5 recorded-once
// updates with warmup (a decay that changes every step) against the float64
// reference, then swaps the averages into the live tensors and back.
func TestEMAMatchesReference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	nP := 4*(50+r.IntN(200)) + 1 + r.IntN(3) // never a multiple of 4
	nS := 1 + r.IntN(90)
	t.Logf("params %d, stats %d", nP, nS)
	liveP, liveS := normals(r, nP), normals(r, nS)
	params := newTensor(t, d, "params", liveP)
	stats := newTensor(t, d, "stats", liveS)

	const decay = 0.9
	ema, err := optim.NewEMA(d, params, stats, decay)
	if err != nil {
		t.Fatal(err)
	}
	defer ema.Free()
	ema.Warmup = true
	state := ema.State()
	if len(state) != 2 || state[0].Name != "ema/params" || state[1].Name != "ema/stats" ||
		state[0].Tensor.Len() != nP || state[1].Tensor.Len() != nS {
		t.Fatalf("EMA state %v, want ema/params of %d and ema/stats of %d", state, nP, nS)
	}
	sameBits(t, "initial ema/params", download(t, state[0].Tensor), liveP)
	sameBits(t, "initial ema/stats", download(t, state[1].Tensor), liveS)

	seq, err := d.NewSequence("ema", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Release()
	ema.Record(seq)
	if err := seq.Finish(); err != nil {
		t.Fatal(err)
	}
	refP, refS := widen(liveP), widen(liveS)
	for step := 0; step < 5; step++ {
		dk := ema.DecayAt(step)
		if want := math.Min(decay, (1+float64(step))/(10+float64(step))); dk != want {
			t.Fatalf("DecayAt(%d) = %v with warmup, want %v", step, dk, want)
		}
		liveP, liveS = normals(r, nP), normals(r, nS)
		if err := params.Upload(liveP); err != nil {
			t.Fatal(err)
		}
		if err := stats.Upload(liveS); err != nil {
			t.Fatal(err)
		}
		if err := ema.SetStep(step); err != nil {
			t.Fatal(err)
		}
		if err := d.Run(seq); err != nil {
			t.Fatal(err)
		}
		refEMA(refP, widen(liveP), dk)
		refEMA(refS, widen(liveS), dk)
		compare(t, fmt.Sprintf("step %d ema/params", step), download(t, state[0].Tensor), refP, 1e-5)
		compare(t, fmt.Sprintf("step %d ema/stats", step), download(t, state[1].Tensor), refS, 1e-5)
		sameBits(t, fmt.Sprintf("step %d live params", step), download(t, params), liveP)
	}

	// Swap: the live tensors get the averages, the averages the live values;
	// a second swap restores both.
	avgP, err := state[0].Tensor.Floats()
	if err != nil {
		t.Fatal(err)
	}
	avgS, err := state[1].Tensor.Floats()
	if err != nil {
		t.Fatal(err)
	}
	swap, err := d.NewSequence("ema swap", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer swap.Release()
	ema.Swap(swap)
	if err := d.Run(swap); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "swapped live params", download(t, params), avgP)
	sameBits(t, "swapped live stats", download(t, stats), avgS)
	sameBits(t, "swapped ema/params", download(t, state[0].Tensor), liveP)
	sameBits(t, "swapped ema/stats", download(t, state[1].Tensor), liveS)
	if err := d.Run(swap); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "live params swapped back", download(t, params), liveP)
	sameBits(t, "live stats swapped back", download(t, stats), liveS)
	sameBits(t, "ema/params swapped back", download(t, state[0].Tensor), avgP)

	// Reset copies the live values again.
	if err := ema.Reset(); err != nil {
		t.Fatal(err)
	}
	sameBits(t, "ema/params after Reset", download(t, state[0].Tensor), liveP)
}

// TestEMAWithoutStatsOrWarmup averages parameters only, with a fixed decay.
func TestEMAWithoutStatsOrWarmup(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	live := normals(r, 37)
	params := newTensor(t, d, "params", live)
	ema, err := optim.NewEMA(d, params, nil, 0.75)
	if err != nil {
		t.Fatal(err)
	}
	defer ema.Free()
	if got := ema.DecayAt(0); got != 0.75 {
		t.Fatalf("DecayAt(0) without warmup = %v, want 0.75", got)
	}
	if n := len(ema.State()); n != 1 {
		t.Fatalf("%d state tensors without stats, want 1", n)
	}
	seq, err := d.NewSequence("ema", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Release()
	ema.Record(seq)
	ref := widen(live)
	for step := 0; step < 3; step++ {
		live = normals(r, len(live))
		if err := params.Upload(live); err != nil {
			t.Fatal(err)
		}
		if err := ema.SetStep(step); err != nil {
			t.Fatal(err)
		}
		if err := d.Run(seq); err != nil {
			t.Fatal(err)
		}
		refEMA(ref, widen(live), 0.75)
		compare(t, fmt.Sprintf("step %d", step), download(t, ema.State()[0].Tensor), ref, 1e-5)
	}
}
