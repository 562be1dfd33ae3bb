package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// TestTrainUnderMpirunAfterTune: `mpirun -n 2 effv2vk tune train` with a
// run's flags, then `mpirun -n 2 effv2vk train` with the same flags. Tune:
// both ranks drive lavapipe, so rank 0 tunes and rank 1 waits; each rank
// trains 8 of the 16 images of a batch, and tune recorded that (had it
// recorded a single process's batch of 16, the training step's shapes at
// 8 would be timed by train). Train: two ranks, rank 0 alone reports and
// writes the run, both finish MPI cleanly, and nothing is timed that tune
// did not time. Only the 3x3 convolutions' data gradients are tuned (their
// shapes follow the batch; every operation adds seconds), to keep the test
// short: TestTuneCoversTrainAndBench checks every operation in one process.
func TestTrainUnderMpirunAfterTune(t *testing.T) {
	needDevice(t)
	cache := enginetest.TempUserCache(t)
	t.Setenv(engine.TuneEnv, "on")
	t.Setenv(engine.TuneForceEnv, "")
	t.Setenv(engine.TuneOnlyEnv, "conv2d_backward_data")
	untouched := filepath.Join(t.TempDir(), "out")
	res := mpirunEffv2vk(t, append([]string{"tune", "train"}, tinyRun(untouched, "--batch-size", "16")...)...)
	if res.ExitCode != 0 {
		t.Fatalf("mpirun tune train: exit %d (timed out %v):\n%s", res.ExitCode, res.TimedOut, res.Output)
	}
	for _, want := range []string{"rank 0 of 2: device", "batch 16 over 2 ranks (8 each)", "training step at batch 8,", "rank 1 of 2: device", "shared with rank 0, which tuned it"} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("tune train's output lacks %q:\n%s", want, res.Output)
		}
	}
	if _, err := os.Stat(untouched); !os.IsNotExist(err) {
		t.Errorf("tune train touched --out %s (%v): it must write nothing there", untouched, err)
	}
	tuned := tuneCacheKeys(t, cache)
	if len(tuned) == 0 {
		t.Fatalf("tune train under mpirun cached nothing:\n%s", res.Output)
	}

	out := t.TempDir()
	res = mpirunTrain(t, out, "--batch-size", "16")
	if res.ExitCode != 0 {
		t.Fatalf("mpirun train: exit %d (timed out %v):\n%s", res.ExitCode, res.TimedOut, res.Output)
	}
	if n := strings.Count(res.Output, "trained 4 steps"); n != 1 {
		t.Errorf("%d reports of the 4 steps, want 1 (rank 0's):\n%s", n, res.Output)
	}
	for _, f := range []string{"metrics.jsonl", "config.json", "ckpt-000000004.safetensors"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("rank 0 did not write %s: %v", f, err)
		}
	}
	var added []string
	for key := range tuneCacheKeys(t, cache) {
		if !tuned[key] {
			added = append(added, key)
		}
	}
	if len(added) > 0 || strings.Contains(res.Output, "timing kernel variants") {
		t.Errorf("train under mpirun after tune train under mpirun timed %d operations tune did not: %v\noutput:\n%s", len(added), added, res.Output)
	}
}
