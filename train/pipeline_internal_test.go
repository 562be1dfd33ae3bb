package train

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
)

// TestPipelinedStepsAreBitwiseSynchronous trains the same run twice: with
// the pipelined loop (the next batch uploaded into the other input slot
// while a step runs) and with every step waited for before the next batch is
// read. Losses, the final checkpoint and best.safetensors must be bitwise
// equal. The run has two stages (a new recording and input feed) and CutMix
// (soft targets through the feed); the validation layer watches both runs.
func TestPipelinedStepsAreBitwiseSynchronous(t *testing.T) {
	c := smallRun(t)
	c.TrainLimit, c.Stages, c.CutMixAlpha = 64, 2, 1
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
	final := fmt.Sprintf("ckpt-%09d.safetensors", len(piped.Losses))
	SameCheckpointState(t, filepath.Join(dirs[0], final), filepath.Join(dirs[1], final))
	SameCheckpointState(t, filepath.Join(dirs[0], "best.safetensors"), filepath.Join(dirs[1], "best.safetensors"))
}
