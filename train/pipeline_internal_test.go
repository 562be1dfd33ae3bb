package train

import (
	"fmt"
	"math"
	"path/filepath"
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
