package main

import (
	"encoding/json"
	"os"
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
		Times: map[string]time.Duration{"fast": 1000, "slow": 3000}, Rematch: map[string]time.Duration{"fast": 1100, "slow": 2900}}})
	out := b.String()
	for _, want := range []string{"op_a", "n=1", "fast", "slow", "3.00x", "fast 1.0, slow 3.0; rematch fast 1.1 vs slow 2.9", "total over 1 operations: defaults 0.00 ms, chosen 0.00 ms (3.00x)"} {
		if !strings.Contains(out, want) {
			t.Errorf("table lacks %q:\n%s", want, out)
		}
	}
}

// TestTuneCoversTrainAndBench: after `effv2vk tune train` with a
// progressive run's flags (two stages, 8x8 then 12x12) and `effv2vk tune`
// at bench's settings, that training run and `effv2vk bench` record
// nothing the cache lacks: no operation is timed again (no new cache
// entry, no timing notice), and tune train wrote nothing to --out.
func TestTuneCoversTrainAndBench(t *testing.T) {
	needDevice(t)
	cache := enginetest.TempUserCache(t)
	t.Setenv(engine.TuneEnv, "on")
	t.Setenv(engine.TuneForceEnv, "pointwise_forward=auto,pointwise_backward_data=auto,pointwise_backward_weight=auto")
	run := []string{"--data", "../../testdata/fashion-mnist-subset", "--train-limit", "8", "--test-limit", "8",
		"--epochs", "2", "--stages", "2", "--min-size", "8", "--max-size", "12", "--batch-size", "4", "--warmup-epochs", "0.5"}
	untouched := filepath.Join(t.TempDir(), "out")
	_, errOut := runChild(t, append([]string{"tune", "train", "--out", untouched}, run...)...)
	for _, want := range []string{"stage 1/2: image size 8,", "stage 2/2: image size 12,"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("tune train's progress lacks %q:\n%s", want, errOut)
		}
	}
	if _, err := os.Stat(untouched); !os.IsNotExist(err) {
		t.Errorf("tune train touched --out %s (%v): it must write nothing there", untouched, err)
	}
	runChild(t, "tune", "--model", "efficientnetv2-pico", "--classes", "10", "--batch-size", "4", "--image-size", "12")
	tuned := tuneCacheKeys(t, cache)
	if len(tuned) == 0 {
		t.Fatal("tune wrote no cache entries")
	}
	runs := map[string][]string{
		"train": append([]string{"train", "--out", t.TempDir()}, run...),
		"bench": {"bench", "--model", "efficientnetv2-pico", "--classes", "10", "--batch-size", "4", "--image-size", "12", "--steps", "1"},
	}
	for _, name := range []string{"train", "bench"} {
		_, errOut := runChild(t, runs[name]...)
		var added []string
		now := tuneCacheKeys(t, cache)
		for key := range now {
			if !tuned[key] {
				added = append(added, key)
			}
		}
		if len(added) > 0 || strings.Contains(errOut, "timing kernel variants") {
			t.Errorf("%s after tune timed operations tune did not: %v\nstderr:\n%s", name, added, errOut)
		}
		tuned = now // the next run is judged on its own additions
	}
}

// tuneCacheKeys are the entries of the one tune cache file under cache.
func tuneCacheKeys(t *testing.T, cache string) map[string]bool {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(cache, "effv2vk", "tune-*.json"))
	if len(files) != 1 {
		t.Fatalf("tune cache files %v: want one", files)
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Entries map[string]json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", files[0], err)
	}
	keys := map[string]bool{}
	for k := range f.Entries {
		keys[k] = true
	}
	return keys
}

// TestParseSizes reads --image-size lists and refuses bad ones.
func TestParseSizes(t *testing.T) {
	got, err := parseSizes("128, 160,192")
	if err != nil || len(got) != 3 || got[0] != 128 || got[1] != 160 || got[2] != 192 {
		t.Errorf("parseSizes(\"128, 160,192\") = %v, %v; want [128 160 192]", got, err)
	}
	for _, bad := range []string{"", "0", "128,", "x", "-8"} {
		if _, err := parseSizes(bad); err == nil || !strings.Contains(err.Error(), "--image-size") {
			t.Errorf("parseSizes(%q): %v, want an error naming --image-size", bad, err)
		}
	}
}
