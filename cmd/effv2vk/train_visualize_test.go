package main

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/viz/xvfbtest"
)

// lockedBuffer is a bytes.Buffer a child process writes while the test
// reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestTrainVisualizeSaysItFinished runs `train --visualize` on a private X
// server: when training ends the summary is printed while the window is
// still open, and the process says how to exit; SIGTERM (as `timeout`
// sends) then closes the window and the process exits 0.
func TestTrainVisualizeSaysItFinished(t *testing.T) {
	xvfbtest.Start(t)
	out := t.TempDir()
	cmd := exec.Command(os.Args[0], "train", "--visualize", "--data", "../../testdata/fashion-mnist-subset", "--train-limit", "32",
		"--test-limit", "20", "--epochs", "1", "--stages", "1", "--batch-size", "16", "--warmup-epochs", "0", "--workers", "1", "--out", out)
	cmd.Env = append(os.Environ(), childEnv+"=1", "EFFV2VK_VALIDATE=0")
	var stdout, stderr lockedBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill() }) // a no-op once it has exited
	waitFor(t, "the window-stays-open line", 3*time.Minute, func() bool { return strings.Contains(stderr.String(), "the window stays open") })
	if !strings.Contains(stdout.String(), "trained 2 steps") {
		t.Fatalf("no summary while the window is open; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(30 * time.Second):
		cmd.Process.Kill()
		t.Fatal("the window did not close within 30 s of SIGTERM")
	}
}
