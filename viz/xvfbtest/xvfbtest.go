// Package xvfbtest starts a private X server for tests that open windows
// (viz's window tests, the CLI's `train --visualize` test).
package xvfbtest

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Start starts a private X server (24-bit, on a display number it picks
// itself), points DISPLAY at it (and clears WAYLAND_DISPLAY) for t, and
// stops it by its PID when t ends. A missing Xvfb skips t, except under
// CI=true, where it fails. It returns the display (":N").
func Start(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("Xvfb")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("Xvfb is required under CI (make deps installs xvfb): %v", err)
		}
		t.Skipf("no Xvfb: %v", err)
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// -displayfd 3: Xvfb picks a free display and writes its number to fd 3.
	cmd := exec.Command(bin, "-displayfd", "3", "-screen", "0", "1280x800x24", "-nolisten", "tcp")
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		w.Close()
		t.Fatalf("starting Xvfb: %v", err)
	}
	w.Close()
	pid := cmd.Process.Pid
	t.Cleanup(func() {
		if p, err := os.FindProcess(pid); err == nil {
			p.Kill()
		}
		cmd.Wait()
	})
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatal("Xvfb exited without a display number")
		}
		t.Setenv("DISPLAY", ":"+n)
		t.Setenv("WAYLAND_DISPLAY", "")
		return ":" + n
	case <-time.After(10 * time.Second):
		t.Fatal("Xvfb did not report a display within 10 s")
	}
	return ""
}
