package train

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNaNLossKeepsLastGoodCheckpoint poisons the parameters with NaN after
// the first step past the step-2 checkpoint: the next step's loss is NaN,
// and the run must stop with an error saying so, write no checkpoint of the
// poisoned state, leave the step-2 checkpoint and best.safetensors as they
// were, and resume from them to the end.
func TestNaNLossKeepsLastGoodCheckpoint(t *testing.T) {
	c := smallRun(t)
	r := &run{cfg: c}
	if err := r.setup(); err != nil {
		r.close()
		t.Fatal(err)
	}
	last := filepath.Join(c.OutDir, checkpointName(2))
	best := filepath.Join(c.OutDir, "best.safetensors")
	var lastBytes, bestBytes []byte
	var poison error
	r.cfg.AfterStep = func(step int, _ float64) {
		if step == 3 {
			lastBytes, _ = os.ReadFile(last)
			bestBytes, _ = os.ReadFile(best)
			nan := make([]float32, r.model.Store.Params.Len())
			for i := range nan {
				nan[i] = float32(math.NaN())
			}
			poison = r.model.Store.Params.Upload(nan)
		}
	}
	res, err := r.train(context.Background())
	checkValidation(t, &Result{Validation: r.close()})
	if poison != nil {
		t.Fatal(poison)
	}
	if err == nil || !strings.Contains(err.Error(), "loss became NaN at step 3") || !strings.Contains(err.Error(), "last good checkpoint") {
		t.Fatalf("run with NaN parameters ended with %v, want the NaN loss at step 3 reported and the last good checkpoint kept", err)
	}
	if res == nil || res.Steps != 3 {
		t.Fatalf("result %+v: want 3 steps trained", res)
	}
	ckpts, _ := filepath.Glob(filepath.Join(c.OutDir, "ckpt-*.safetensors"))
	if len(ckpts) != 1 || ckpts[0] != last {
		t.Fatalf("checkpoints after the NaN loss: %v, want only %s", ckpts, last)
	}
	if now, _ := os.ReadFile(last); len(lastBytes) == 0 || !bytes.Equal(now, lastBytes) {
		t.Errorf("the NaN loss changed %s", last)
	}
	if now, _ := os.ReadFile(best); len(bestBytes) == 0 || !bytes.Equal(now, bestBytes) {
		t.Errorf("the NaN loss changed best.safetensors")
	}
	c.Resume = true
	rest := mustRun(t, c)
	if rest.Steps != 2 {
		t.Fatalf("resumed run trained %d steps, want 2 (steps 3 and 4)", rest.Steps)
	}
	for i, l := range rest.Losses {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			t.Fatalf("resumed step %d: loss %v", i+3, l)
		}
	}
}
