package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/train"
)

// childEnv makes the test binary run effv2vk's main instead of the tests
// (TestMain), so that a test can signal a real training process.
const childEnv = "EFFV2VK_CLI_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		main() // exits by itself on an error
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// signalRun is a small training run: 6 epochs of 4 steps, a checkpoint at
// the end of each epoch, in a child process with the validation layer on
// (a validation message makes it exit with status 1).
func signalRun(out string, extra ...string) *exec.Cmd {
	args := append([]string{"train", "--data", "../../testdata/fashion-mnist-subset", "--train-limit", "64",
		"--test-limit", "20", "--epochs", "6", "--stages", "2", "--batch-size", "16", "--warmup-epochs", "1",
		"--workers", "1", "--out", out}, extra...)
	return childCommand(args...)
}

// trainSteps returns the step numbers of metrics.jsonl's training records,
// in file order (a partial last line is skipped, as readers do).
func trainSteps(t *testing.T, dir string) []int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "metrics.jsonl"))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var steps []int
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var rec struct {
			Kind string `json:"kind"`
			Step int    `json:"step"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && rec.Kind == "train" {
			steps = append(steps, rec.Step)
		}
	}
	return steps
}

// waitFor polls cond every 20 ms until it holds, failing t after limit.
func waitFor(t *testing.T, what string, limit time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkResumesToTheEnd checks every checkpoint left in out opens, resumes
// the run to its end and checks that metrics.jsonl then logs each of the
// 24 steps once, in order.
func checkResumesToTheEnd(t *testing.T, out string) {
	t.Helper()
	ckpts, _ := filepath.Glob(filepath.Join(out, "ckpt-*.safetensors"))
	if len(ckpts) == 0 {
		t.Fatal("no checkpoint left")
	}
	for _, p := range ckpts {
		if _, err := train.OpenCheckpoint(p); err != nil {
			t.Fatalf("checkpoint %s is damaged: %v", p, err)
		}
	}
	resume := signalRun(out, "--resume")
	if b, err := resume.CombinedOutput(); err != nil {
		t.Fatalf("resume: %v\n%s", err, b)
	}
	steps := trainSteps(t, out)
	if len(steps) != 24 {
		t.Fatalf("metrics.jsonl logs %d training steps after the resume, want 24: %v", len(steps), steps)
	}
	for i, s := range steps {
		if s != i+1 {
			t.Fatalf("metrics.jsonl training steps %v: want 1..24 once each", steps)
		}
	}
}

// TestTrainInterruptWritesCheckpoint sends SIGINT to a training process
// mid-epoch: it must write a checkpoint at that step, exit with status 130
// and resume to the end.
func TestTrainInterruptWritesCheckpoint(t *testing.T) {
	out := t.TempDir()
	cmd := signalRun(out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Step 6 is mid-way through the second epoch.
	waitFor(t, "step 6 in metrics.jsonl", 2*time.Minute, func() bool { return len(trainSteps(t, out)) >= 6 })
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatalf("SIGINT: %v", err)
	}
	err := cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 130 {
		t.Fatalf("after SIGINT: %v, want exit status 130\n%s", err, stderr.String())
	}
	if !bytes.Contains(stderr.Bytes(), []byte("--resume")) {
		t.Errorf("the interrupted run does not say how to continue:\n%s", stderr.String())
	}
	stopped := trainSteps(t, out)
	if len(stopped) >= 24 {
		t.Fatalf("the run logged all %d steps: SIGINT came after the end", len(stopped))
	}
	ck := filepath.Join(out, fmt.Sprintf("ckpt-%09d.safetensors", len(stopped)))
	if _, err := os.Stat(ck); err != nil {
		t.Fatalf("no checkpoint at the interrupted step %d: %v", len(stopped), err)
	}
	checkResumesToTheEnd(t, out)
}

// TestTrainSurvivesKill kills a training process with SIGKILL at moments
// spread over its run after the first checkpoint: whatever it was doing
// (stepping, evaluating, writing a checkpoint), the checkpoints left open
// and the run resumes to the end with each step logged once.
func TestTrainSurvivesKill(t *testing.T) {
	r := enginetest.Rand(t)
	for i := range 2 {
		out := t.TempDir()
		cmd := signalRun(out)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the first checkpoint", 2*time.Minute, func() bool {
			m, _ := filepath.Glob(filepath.Join(out, "ckpt-*.safetensors"))
			return len(m) > 0
		})
		delay := time.Duration(r.IntN(1500)) * time.Millisecond
		t.Logf("run %d: SIGKILL %v after the first checkpoint", i+1, delay)
		time.Sleep(delay)
		if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatalf("SIGKILL: %v", err)
		}
		// A process that ended before the signal exits with its own status
		// (Signal succeeds on an unreaped child): only "killed by SIGKILL"
		// proves the kill hit a live process.
		err := cmd.Wait()
		var exit *exec.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("run %d: after SIGKILL: %v, want the process killed by the signal", i+1, err)
		}
		if ws, ok := exit.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			t.Fatalf("run %d: the process ended with %v before SIGKILL reached it", i+1, exit)
		}
		if steps := trainSteps(t, out); len(steps) >= 24 {
			t.Fatalf("run %d: %d steps logged before the kill: the run had finished", i+1, len(steps))
		}
		checkResumesToTheEnd(t, out)
	}
}
