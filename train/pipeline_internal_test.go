package train

import (
	"context"
	"errors"
	"fmt"
	"math"
	"path/filepath"
	"strings"
	"testing"
)

// TestPipelinedStepsAreBitwiseSynchronous trains the same run twice: with
// the pipelined loop (the next step's batch and step values written into
// the other slot and the step queued while one runs, its loss read a step
// late) and with every step waited for before the next batch is read.
// Losses, every checkpoint (mid-epoch ones every 3 steps, which the
// pipeline drains for, and the epochs') and best.safetensors must be
// bitwise equal. The run has two stages (a new recording and input feed)
// and CutMix (soft targets through the feed); the validation layer watches
// both runs.
func TestPipelinedStepsAreBitwiseSynchronous(t *testing.T) {
	c := smallRun(t)
	c.TrainLimit, c.Stages, c.CutMixAlpha, c.CheckpointEvery, c.KeepLast = 64, 2, 1, 3, 10
	defer func() { pipelineSteps = true }()
	var res [2]*Result
	var dirs [2]string
	for i, pipelined := range []bool{true, false} {
		pipelineSteps = pipelined
		c.OutDir = t.TempDir()
		dirs[i] = c.OutDir
		res[i] = mustRun(t, c)
	}
	piped, synced := res[0], res[1]
	if len(piped.Losses) != 8 || len(synced.Losses) != len(piped.Losses) {
		t.Fatalf("pipelined run: %d steps, synchronous: %d, want 8 each", len(piped.Losses), len(synced.Losses))
	}
	for i := range piped.Losses {
		if math.Float64bits(piped.Losses[i]) != math.Float64bits(synced.Losses[i]) {
			t.Fatalf("step %d: loss %v pipelined, %v synchronous", i+1, piped.Losses[i], synced.Losses[i])
		}
	}
	for _, step := range []int{3, 4, 6, 8} {
		name := fmt.Sprintf("ckpt-%09d.safetensors", step)
		SameCheckpointState(t, filepath.Join(dirs[0], name), filepath.Join(dirs[1], name))
	}
	SameCheckpointState(t, filepath.Join(dirs[0], "best.safetensors"), filepath.Join(dirs[1], "best.safetensors"))
}

// TestPipelinedInterruptResumesBitwise interrupts a pipelined run (no hook:
// the cancellation is noticed when the first step is queued, and the loop
// drains before its checkpoint) and resumes it: losses and the final state
// must be bitwise those of the uninterrupted run.
func TestPipelinedInterruptResumesBitwise(t *testing.T) {
	c := smallRun(t)
	whole := mustRun(t, c)
	wholeDir := c.OutDir

	c.OutDir = t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	first, err := Run(ctx, c, nil)
	if !errors.Is(err, ErrInterrupted) {
		t.Fatalf("run with a cancelled context ended with %v, want ErrInterrupted", err)
	}
	checkValidation(t, first)
	if len(first.Losses) != 1 {
		t.Fatalf("interrupted run trained %d steps, want 1 (the step queued when the cancellation was seen)", len(first.Losses))
	}
	c.Resume = true
	rest := mustRun(t, c)
	got := append(append([]float64(nil), first.Losses...), rest.Losses...)
	if len(got) != len(whole.Losses) {
		t.Fatalf("resumed run trained %d steps in all, uninterrupted %d", len(got), len(whole.Losses))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(whole.Losses[i]) {
			t.Fatalf("step %d: loss %v after the interruption, %v uninterrupted", i+1, got[i], whole.Losses[i])
		}
	}
	final := fmt.Sprintf("ckpt-%09d.safetensors", len(whole.Losses))
	SameCheckpointState(t, filepath.Join(c.OutDir, final), filepath.Join(wholeDir, final))
}

// TestPipelinedNaNLossStops: in a pipelined run (no hook), a loss that
// becomes NaN, seen a step late with the next step already queued, still
// stops the run with the error that names it, and no checkpoint is written
// past the last good step.
func TestPipelinedNaNLossStops(t *testing.T) {
	c := smallRun(t)
	c.TrainLimit, c.LR = 64, 1e30 // diverges within the first steps
	res, err := Run(context.Background(), c, nil)
	if res != nil {
		checkValidation(t, res)
	}
	if err == nil || !strings.Contains(err.Error(), "loss became") || !strings.Contains(err.Error(), "last good checkpoint") {
		t.Fatalf("a run at learning rate 1e30 ended with %v, want the non-finite loss reported", err)
	}
	t.Logf("%d good steps, then: %v", res.Steps, err)
	for i, l := range res.Losses {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			t.Fatalf("step %d: loss %v counted as trained", i+1, l)
		}
	}
	ckpts, _ := filepath.Glob(filepath.Join(c.OutDir, "ckpt-*.safetensors"))
	for _, p := range ckpts {
		var step int
		if _, err := fmt.Sscanf(filepath.Base(p), "ckpt-%d.safetensors", &step); err != nil || step > res.Steps {
			t.Errorf("checkpoint %s after %d good steps", p, res.Steps)
		}
	}
}
