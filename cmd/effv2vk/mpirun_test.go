package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/dist/disttest"
)

// mpirunTrain runs `effv2vk train` (this test binary as main) as two ranks
// of an mpirun job on a tiny run.
func mpirunTrain(t *testing.T, out string, extra ...string) disttest.Result {
	t.Helper()
	args := append([]string{"train", "--data", "../../testdata/fashion-mnist-subset", "--train-limit", "64",
		"--test-limit", "20", "--epochs", "1", "--progressive=false", "--max-size", "16", "--warmup-epochs", "0.5",
		"--workers", "1", "--out", out}, extra...)
	return disttest.Run(t, 2, 4*time.Minute, []string{childEnv + "=1", "EFFV2VK_DEVICE=0", "EFFV2VK_VALIDATE=1"}, args...)
}

// TestTrainUnderMpirun: two ranks of the command train, rank 0 alone
// reports and writes the run, and both finish MPI cleanly (exit 0).
func TestTrainUnderMpirun(t *testing.T) {
	out := t.TempDir()
	res := mpirunTrain(t, out, "--batch-size", "16")
	if res.ExitCode != 0 {
		t.Fatalf("mpirun exit %d (timed out %v):\n%s", res.ExitCode, res.TimedOut, res.Output)
	}
	if n := strings.Count(res.Output, "trained 4 steps"); n != 1 {
		t.Errorf("%d reports of the 4 steps, want 1 (rank 0's):\n%s", n, res.Output)
	}
	for _, f := range []string{"metrics.jsonl", "config.json", "ckpt-000000004.safetensors"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("rank 0 did not write %s: %v", f, err)
		}
	}
}

// TestTrainUnderMpirunError: an error on the ranks ends the job non-zero
// (MPI_Abort) with the rank's message.
func TestTrainUnderMpirunError(t *testing.T) {
	res := mpirunTrain(t, t.TempDir(), "--batch-size", "15")
	if res.ExitCode == 0 {
		t.Fatalf("--batch-size 15 over 2 ranks: exit 0:\n%s", res.Output)
	}
	if want := "is not a multiple of the 2 ranks"; !strings.Contains(res.Output, want) {
		t.Fatalf("output does not say %q:\n%s", want, res.Output)
	}
}
