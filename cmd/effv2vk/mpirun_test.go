package main

import (
	"strings"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/dist/disttest"
	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// mpirunTrain runs `effv2vk train` (this test binary as main) as two ranks
// of an mpirun job on a tiny run.
func mpirunTrain(t *testing.T, out string, extra ...string) disttest.Result {
	t.Helper()
	return mpirunEffv2vk(t, append([]string{"train"}, tinyRun(out, extra...)...)...)
}

// tinyRun is the tiny run's flags, with its output directory and extra
// flags (--batch-size: 16 makes 4 steps).
func tinyRun(out string, extra ...string) []string {
	return append([]string{"--data", "../../testdata/fashion-mnist-subset", "--train-limit", "64",
		"--test-limit", "20", "--epochs", "1", "--progressive=false", "--max-size", "16", "--warmup-epochs", "0.5",
		"--workers", "1", "--out", out}, extra...)
}

// mpirunEffv2vk runs effv2vk with args as two ranks of an mpirun job, both
// on device 0.
func mpirunEffv2vk(t *testing.T, args ...string) disttest.Result {
	t.Helper()
	return disttest.Run(t, 2, 4*time.Minute, []string{childEnv + "=1", "EFFV2VK_DEVICE=0", "EFFV2VK_VALIDATE=1"}, args...)
}

// TestTrainUnderMpirunError: an error on the ranks ends the job non-zero
// (MPI_Abort) with the rank's message; `tune train` under mpirun gives
// train's own error.
func TestTrainUnderMpirunError(t *testing.T) {
	t.Setenv("EFFV2VK_TUNE", "on")
	enginetest.TempUserCache(t)
	for _, command := range [][]string{{"train"}, {"tune", "train"}} {
		res := mpirunEffv2vk(t, append(command, tinyRun(t.TempDir(), "--batch-size", "15")...)...)
		if res.ExitCode == 0 {
			t.Fatalf("%s --batch-size 15 over 2 ranks: exit 0:\n%s", command, res.Output)
		}
		if want := "is not a multiple of the 2 ranks"; !strings.Contains(res.Output, want) {
			t.Fatalf("%s: output does not say %q:\n%s", command, want, res.Output)
		}
	}
}
