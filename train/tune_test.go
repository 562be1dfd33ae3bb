package train_test

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/train"
)

// TestTunedRunRepeatsBitwise trains pico (batch 4, 16x16) for 3 steps
// with tuning on and a fresh cache (the first run times the variants and
// fills the cache), then again: the second run takes every choice from the
// cache (the file is not rewritten, the tuner prints nothing) and repeats
// the first bitwise.
func TestTunedRunRepeatsBitwise(t *testing.T) {
	cache := enginetest.TempUserCache(t)
	t.Setenv(engine.TuneEnv, "on")
	// The backward pointwise GEMMs keep their default: timing their
	// variants too would double the test's compile time and test nothing
	// more (the forward ones and the weight gradients are tuned).
	t.Setenv(engine.TuneForceEnv, "pointwise_backward_data=auto,pointwise_backward_weight=auto")
	var warnings bytes.Buffer
	t.Cleanup(engine.SetTuneWarnings(&warnings))
	cfg := func() train.Config {
		c := quick(t)
		c.TrainLimit, c.Epochs, c.Stages, c.BatchSize = 12, 1, 1, 4
		c.MinSize, c.MaxSize = 16, 16
		c.TestLimit, c.EvalBatch = 8, 4 // evaluation shares the training shapes' choices
		return c
	}
	c1 := cfg()
	start := time.Now()
	first := run(t, context.Background(), c1)
	t.Logf("first run (tuning): %v", time.Since(start))
	files, _ := filepath.Glob(filepath.Join(cache, "effv2vk", "tune-*.json"))
	if len(files) != 1 {
		t.Fatalf("tune cache files after the first run: %v, want one", files)
	}
	filled, err := os.ReadFile(files[0])
	if err != nil || !bytes.Contains(filled, []byte(`"pointwise_forward `)) || !bytes.Contains(filled, []byte(`"conv2d_backward_weight `)) {
		t.Fatalf("tune cache %s (%v): want pointwise and conv2d weight-gradient choices:\n%s", files[0], err, filled)
	}
	if !strings.Contains(warnings.String(), "timing kernel variants") {
		t.Errorf("tuner output of the first run: %q, want the notice that it times variants", warnings.String())
	}
	warnings.Reset()
	c2 := cfg()
	start = time.Now()
	second := run(t, context.Background(), c2)
	t.Logf("second run (cached): %v", time.Since(start))
	if again, _ := os.ReadFile(files[0]); !bytes.Equal(again, filled) {
		t.Errorf("the second run rewrote the tune cache: it should have found every choice there")
	}
	if warnings.Len() > 0 {
		t.Errorf("tuner output of the second run: %s", warnings.String())
	}
	if len(first.Losses) != 3 || len(second.Losses) != len(first.Losses) {
		t.Fatalf("steps: %d then %d, want 3", len(first.Losses), len(second.Losses))
	}
	for i := range first.Losses {
		if math.Float64bits(first.Losses[i]) != math.Float64bits(second.Losses[i]) {
			t.Fatalf("step %d: loss %v with the cache, %v while tuning", i+1, second.Losses[i], first.Losses[i])
		}
	}
	final := "ckpt-000000003.safetensors"
	train.SameCheckpointState(t, filepath.Join(c2.OutDir, final), filepath.Join(c1.OutDir, final))
}
