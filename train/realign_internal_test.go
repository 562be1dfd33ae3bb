package train

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/safetensors"
)

// TestRealignRoundTrip moves every state region of efficientnetv2-pico from
// one alignment to another and back: each entry's values come back, the
// gaps are zero.
func TestRealignRoundTrip(t *testing.T) {
	cfg, err := arch.Lookup("efficientnetv2-pico", 10)
	if err != nil {
		t.Fatal(err)
	}
	a, b := net.NewLayout(cfg, 4), net.NewLayout(cfg, 48)
	for _, name := range []string{"optim/rmsprop/group0/square_avg", "optim/adamw/group1/exp_avg", "ema/params", "ema/stats"} {
		r, _ := regionOf(name)
		offs, n := regionEntries(cfg, a, r)
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i + 1)
		}
		there, err := realign(cfg, name, v, a, b)
		if err != nil {
			t.Fatal(err)
		}
		if _, nb := regionEntries(cfg, b, r); len(there) != nb || nb <= n {
			t.Fatalf("%s: %d values at alignment 48, want %d (more than %d at alignment 4)", name, len(there), nb, n)
		}
		back, err := realign(cfg, name, there, b, a)
		if err != nil {
			t.Fatal(err)
		}
		inEntry := make([]bool, n)
		for pname, off := range offs {
			for _, p := range cfg.Params() {
				if p.Name == pname {
					for i := off; i < off+p.Elements(); i++ {
						inEntry[i] = true
					}
				}
			}
		}
		for i := range back {
			want := float32(0)
			if inEntry[i] {
				want = v[i]
			}
			if back[i] != want {
				t.Fatalf("%s: element %d is %v after the round trip, want %v", name, i, back[i], want)
			}
		}
	}
	if _, err := realign(cfg, "optim/rmsprop/group0/square_avg", make([]float32, 3), a, b); err == nil {
		t.Fatal("a state of the wrong length was realigned")
	}
	if _, err := realign(cfg, "mystery", nil, a, b); err == nil {
		t.Fatal("a state of unknown layout was realigned")
	}
}

// TestResumeAcrossAlignment interrupts a run, rewrites its checkpoint as
// if made on a device with another buffer alignment, and resumes: the
// losses and the whole final state (the flat optimizer and EMA state on
// its entries, not its alignment gaps) must be bitwise those of the
// uninterrupted run (moving the state there and back loses nothing an
// update reads).
func TestResumeAcrossAlignment(t *testing.T) {
	if os.Getenv("EFFV2VK_VALIDATE") == "" {
		t.Setenv("EFFV2VK_VALIDATE", "1")
	}
	c := Defaults()
	c.DataDir = "../testdata/fashion-mnist-subset"
	c.TrainLimit, c.TestLimit = 128, 50
	c.Epochs, c.Stages, c.BatchSize, c.EvalBatch, c.WarmupEpochs, c.Workers = 2, 2, 16, 50, 0.5, 2
	c.OutDir = t.TempDir()
	whole := mustRun(t, c)
	wholeDir := c.OutDir

	c.OutDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	const stopAt = 11
	c.AfterStep = func(step int, _ float64) {
		if step == stopAt {
			cancel()
		}
	}
	first, err := Run(ctx, c, nil)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("interrupted run: %v", err)
	}
	checkValidation(t, first)
	ckpts, _ := filepath.Glob(filepath.Join(c.OutDir, "ckpt-*.safetensors"))
	path := ckpts[len(ckpts)-1]
	f, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	meta, err := readCheckpointMeta(f, path)
	if err != nil {
		t.Fatal(err)
	}
	mc, err := arch.Lookup(meta.Model, 10)
	if err != nil {
		t.Fatal(err)
	}
	other := 3*meta.Align + 4 // floats: any other alignment
	from, to := net.NewLayout(mc, meta.Align), net.NewLayout(mc, other)
	tensors := f.Tensors()
	moved := 0
	for name := range tensors {
		if _, err := regionOf(name); err != nil {
			continue // a model tensor
		}
		v, err := f.Float32s(name)
		if err != nil {
			t.Fatal(err)
		}
		w, err := realign(mc, name, v, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if tensors[name], err = safetensors.Float32Tensor([]int{len(w)}, w); err != nil {
			t.Fatal(err)
		}
		moved++
	}
	if moved < 3 {
		t.Fatalf("moved %d state tensors, want the optimizer's and the EMA's", moved)
	}
	meta.Align = other
	raw, _ := json.Marshal(meta)
	if err := safetensors.WriteFile(path, tensors, map[string]string{metaKey: string(raw)}); err != nil {
		t.Fatal(err)
	}

	c.AfterStep, c.Resume = nil, true
	rest := mustRun(t, c)
	got := append(append([]float64(nil), first.Losses...), rest.Losses...)
	if len(got) != len(whole.Losses) {
		t.Fatalf("%d steps in all, uninterrupted %d", len(got), len(whole.Losses))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(whole.Losses[i]) {
			t.Fatalf("step %d: loss %v after resuming across alignments, %v uninterrupted", i+1, got[i], whole.Losses[i])
		}
	}
	// The flat state's alignment gaps are compared apart: realign zeroes
	// them, while in the uninterrupted run RMSProp's square average decays
	// there from its initial 1 (no update reads them).
	final := checkpointName(len(whole.Losses))
	sameCheckpointState(t, filepath.Join(c.OutDir, final), filepath.Join(wholeDir, final), true)
}
