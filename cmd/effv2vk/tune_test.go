package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// TestTuneCommand runs `effv2vk tune` on pico with a temporary cache: the
// weight gradients and the RMSProp update are timed (the pointwise GEMMs
// are forced to their default to keep the test short), the table lists
// every decision and the cache file is written.
func TestTuneCommand(t *testing.T) {
	cache := enginetest.TempUserCache(t)
	t.Setenv(engine.TuneEnv, "on")
	t.Setenv(engine.TuneForceEnv, "pointwise_forward=auto,pointwise_backward_data=auto,pointwise_backward_weight=auto")
	out, errOut := runChild(t, "tune", "--model", "efficientnetv2-pico", "--classes", "10", "--batch-size", "2", "--image-size", "16")
	if !strings.Contains(errOut, "tuning: ") {
		t.Errorf("no progress line on stderr:\n%s", errOut)
	}
	measured, forced, optimizer := 0, 0, 0
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) > 6 && f[0] == "conv2d_backward_weight" && strings.Contains(line, " measured ") && strings.Contains(line, "single "):
			measured++
		case len(f) > 6 && strings.HasPrefix(f[0], "pointwise_") && strings.Contains(line, " forced "):
			forced++
		case len(f) > 6 && f[0] == "optim_rmsprop" && strings.Contains(line, " measured "):
			optimizer++
		}
	}
	if optimizer != 1 {
		t.Errorf("tune table: %d measured optim_rmsprop rows, want 1:\n%s", optimizer, out)
	}
	if measured == 0 || forced == 0 || !strings.Contains(out, "total over ") {
		t.Fatalf("tune table: %d measured weight-gradient rows, %d forced pointwise rows; want both and a total:\n%s", measured, forced, out)
	}
	files, _ := filepath.Glob(filepath.Join(cache, "effv2vk", "tune-*.json"))
	if len(files) != 1 || !strings.Contains(out, files[0]) {
		t.Fatalf("cache files %v: want one, named in the output:\n%s", files, out)
	}
}

// TestTuneCommandOff: with EFFV2VK_TUNE=off there is nothing to tune.
func TestTuneCommandOff(t *testing.T) {
	t.Setenv(engine.TuneEnv, "off")
	err := runCLI(t, "tune", "--model", "efficientnetv2-pico")
	if err == nil || !strings.Contains(err.Error(), "tuning is off") {
		t.Fatalf("tune with %s=off: %v, want an error saying tuning is off", engine.TuneEnv, err)
	}
}

// TestTuneTable checks the table's columns from known decisions.
func TestTuneTable(t *testing.T) {
	var b strings.Builder
	writeTuneTable(&b, []engine.TuneResult{{Op: "op_a", Shape: "n=1", Variant: "fast", Default: "slow", Source: "measured",
		Times: map[string]time.Duration{"fast": 1000, "slow": 3000}}})
	out := b.String()
	for _, want := range []string{"op_a", "n=1", "fast", "slow", "3.00x", "fast 1.0, slow 3.0", "total over 1 operations: defaults 0.00 ms, chosen 0.00 ms (3.00x)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}
