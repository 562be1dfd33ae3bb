package main

import (
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/safetensors"
)

// TestInferMatchesPyTorch runs `effv2vk infer` on the pico golden (made by
// testdata/make_goldens.py from torchvision) in both modes.
func TestInferMatchesPyTorch(t *testing.T) {
	if os.Getenv("CI") != "true" && os.Getenv("VK_DRIVER_FILES") == "" {
		if _, err := os.Stat("/usr/share/vulkan/icd.d/lvp_icd.x86_64.json"); err != nil {
			t.Skip("no Vulkan driver")
		}
	}
	golden := "../../testdata/golden/"
	dir := t.TempDir()
	out := filepath.Join(dir, "out.safetensors")
	io, err := safetensors.Read(golden + "pico-io.safetensors")
	if err != nil {
		t.Fatal(err)
	}
	args := []string{"infer", "--model", "efficientnetv2-pico", "--classes", "10", "--weights", golden + "pico-weights.safetensors",
		"--input", golden + "pico-io.safetensors", "--output", out}
	if err := runCLI(t, append(args, "--mode", "eval")...); err != nil {
		t.Fatal(err)
	}
	check := func(key, wantKey string, tol, floor float64) {
		t.Helper()
		f, err := safetensors.Read(out)
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.Float32s(key)
		if err != nil {
			t.Fatal(err)
		}
		want, err := io.Float32s(wantKey)
		if err != nil {
			t.Fatal(err)
		}
		// CloseTo fails on a NaN or infinity in got, which a plain
		// "error > tol" would let pass.
		if err := enginetest.CloseToAtLeast(widen(got), widen(want), tol, floor); err != nil {
			t.Errorf("%s: %v", key, err)
		}
	}
	check("logits", "eval_logits", 1e-4, 0)
	if err := runCLI(t, append(args, "--mode", "train", "--labels", golden+"pico-io.safetensors")...); err != nil {
		t.Fatal(err)
	}
	check("logits", "train_logits", 1e-4, 0)
	check("loss", "loss", 1e-4, 0)
	// Every gradient: the output's grad/<name> are exactly the model's
	// trainable parameters, and each matches PyTorch's.
	written, err := safetensors.Read(out)
	if err != nil {
		t.Fatal(err)
	}
	var trainable []string
	for _, p := range mustLookup(t, "efficientnetv2-pico", 10).Params() {
		if p.Trainable {
			trainable = append(trainable, "grad/"+p.Name)
		}
	}
	var grads []string
	for _, name := range written.Names() {
		if strings.HasPrefix(name, "grad/") {
			grads = append(grads, name)
		}
	}
	sort.Strings(trainable)
	sort.Strings(grads)
	if strings.Join(grads, " ") != strings.Join(trainable, " ") {
		t.Fatalf("infer wrote %d gradients, the model has %d trainable parameters:\n got  %v\n want %v", len(grads), len(trainable), grads, trainable)
	}
	// Some gradients are zero up to float64 rounding (the BN beta of a
	// block whose output feeds only a 1x1 conv and BN): errors are measured
	// against at least 1e-4 of the model's largest gradient, as in
	// net/parity_test.go.
	largest := 0.0
	for _, name := range grads {
		want, err := io.Float32s(name)
		if err != nil {
			t.Fatalf("the golden lacks %s: %v", name, err)
		}
		for _, v := range want {
			largest = math.Max(largest, math.Abs(float64(v)))
		}
	}
	for _, name := range grads {
		check(name, name, 1e-3, 1e-4*largest)
	}
	if len(grads) < 50 {
		t.Fatalf("only %d gradients compared", len(grads))
	}

	// Bad input: clear errors.
	err = runCLI(t, "infer", "--model", "efficientnetv2-pico", "--classes", "7", "--weights", golden+"pico-weights.safetensors",
		"--input", golden+"pico-io.safetensors", "--output", out)
	if err == nil || !strings.Contains(err.Error(), "classifier.1.weight") {
		t.Errorf("wrong --classes: %v", err)
	}
	err = runCLI(t, append(args, "--mode", "sideways")...)
	if err == nil || !strings.Contains(err.Error(), "--mode") {
		t.Errorf("bad --mode: %v", err)
	}
}
