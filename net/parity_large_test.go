package net_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/net/arch"
)

// checkParityGenerated generates torchvision goldens for model ("m", "l") at
// batch and size and checks efficientnetv2-<model> against them: eval and
// train logits, loss, every gradient, the running statistics.
func checkParityGenerated(t *testing.T, model string, batch, size int) {
	if testing.Short() {
		t.Skip("full-size parity in -short mode")
	}
	if _, err := os.Stat("/usr/bin/python3"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI: /usr/bin/python3 with torch is required for the parity test")
		}
		t.Skip("no /usr/bin/python3")
	}
	dir := t.TempDir()
	cmd := exec.Command("/usr/bin/python3", "../testdata/make_goldens.py", "--model", model, "--classes", "1000",
		"--batch", strconv.Itoa(batch), "--size", strconv.Itoa(size), "--out", dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		if os.Getenv("CI") != "true" && strings.Contains(string(out), "No module named") {
			t.Skipf("torch missing: %s", out)
		}
		t.Fatalf("make_goldens.py: %v\n%s", err, out)
	}
	d := enginetest.Open(t)
	cfg, err := arch.Lookup("efficientnetv2-"+model, 1000)
	if err != nil {
		t.Fatal(err)
	}
	checkParity(t, d, cfg, filepath.Join(dir, model+"-weights.safetensors"), filepath.Join(dir, model+"-io.safetensors"))
}

// TestParityM checks efficientnetv2-m (207 MiB of parameters, more than
// lavapipe's 128 MiB binding limit) against torchvision at batch 2, 64x64.
func TestParityM(t *testing.T) { checkParityGenerated(t, "m", 2, 64) }

// TestParityL checks efficientnetv2-l (452 MiB of parameters) against
// torchvision at batch 2, 64x64.
func TestParityL(t *testing.T) { checkParityGenerated(t, "l", 2, 64) }
