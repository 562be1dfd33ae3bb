package train_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/train"
)

const subset = "../testdata/fashion-mnist-subset"

// quick is a run small enough for tests: pico on 256 images of the
// Fashion-MNIST subset, two progressive stages.
func quick(t *testing.T) train.Config {
	if os.Getenv("EFFV2VK_VALIDATE") == "" {
		t.Setenv("EFFV2VK_VALIDATE", "1")
	}
	c := train.Defaults()
	c.DataDir = subset
	c.TrainLimit, c.TestLimit = 256, 100
	c.Epochs, c.Stages, c.BatchSize = 2, 2, 16
	c.EvalBatch = 50
	c.WarmupEpochs = 0.5
	c.Workers = 2
	c.OutDir = t.TempDir()
	return c
}

func run(t *testing.T, ctx context.Context, c train.Config) *train.Result {
	t.Helper()
	res, err := train.Run(ctx, c, nil)
	if err != nil && !errors.Is(err, train.ErrInterrupted) {
		if strings.Contains(err.Error(), "no Vulkan device") || strings.Contains(err.Error(), "vkCreateInstance") {
			if os.Getenv("CI") == "true" {
				t.Fatalf("no Vulkan device under CI: %v", err)
			}
			t.Skip(err)
		}
		t.Fatal(err)
	}
	for _, m := range res.Validation {
		t.Errorf("validation: %s", m)
	}
	return res
}

func mean(v []float64) float64 {
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func TestShortRunLossFalls(t *testing.T) {
	c := quick(t)
	c.SnapshotEvery = 16
	res := run(t, context.Background(), c)
	if res.Steps != 2*16 {
		t.Fatalf("steps %d, want 32", res.Steps)
	}
	first, last := mean(res.Losses[:6]), mean(res.Losses[len(res.Losses)-6:])
	if !(last < first) {
		t.Fatalf("loss did not fall: first steps %.4f, last steps %.4f (%v)", first, last, res.Losses)
	}
	for _, f := range []string{"metrics.jsonl", "config.json", "snapshot.json", "best.safetensors"} {
		if _, err := os.Stat(filepath.Join(c.OutDir, f)); err != nil {
			t.Errorf("output %s: %v", f, err)
		}
	}
	var snap train.Snapshot
	if b, err := os.ReadFile(filepath.Join(c.OutDir, "snapshot.json")); err != nil || json.Unmarshal(b, &snap) != nil ||
		snap.Step != 32 || len(snap.Samples) == 0 || len(snap.FeatureMaps) == 0 {
		t.Errorf("snapshot.json: step %d, %d samples, %d feature maps (%v): want step 32's samples and feature maps", snap.Step, len(snap.Samples), len(snap.FeatureMaps), err)
	}
	ck, _ := filepath.Glob(filepath.Join(c.OutDir, "ckpt-*.safetensors"))
	if len(ck) == 0 || len(ck) > c.KeepLast {
		t.Errorf("checkpoints kept: %v (keep %d)", ck, c.KeepLast)
	}
	if res.FinalTop1 <= 0.1 {
		t.Errorf("test top-1 %.3f: no better than chance after 2 epochs", res.FinalTop1)
	}
}

// TestResumeIsBitwise interrupts a run mid-epoch and resumes it: the losses
// must be bitwise those of an uninterrupted run with the same seed, and so
// must the whole final state: parameters, BN running statistics, optimizer
// and EMA state, position and best top-1 (the last checkpoint and
// best.safetensors of both runs).
func TestResumeIsBitwise(t *testing.T) {
	c := quick(t)
	whole := run(t, context.Background(), c)

	c2 := quick(t)
	ctx, cancel := context.WithCancel(context.Background())
	const stopAt = 21 // in the second epoch, mid-way
	c2.AfterStep = func(step int, _ float64) {
		if step == stopAt {
			cancel()
		}
	}
	first := run(t, ctx, c2)
	if len(first.Losses) != stopAt {
		t.Fatalf("interrupted run did %d steps, want %d", len(first.Losses), stopAt)
	}
	c2.AfterStep = nil
	c2.Resume = true
	rest := run(t, context.Background(), c2)
	got := append(append([]float64(nil), first.Losses...), rest.Losses...)
	if len(got) != len(whole.Losses) {
		t.Fatalf("resumed run did %d steps in all, uninterrupted %d", len(got), len(whole.Losses))
	}
	for i := range got {
		if math.Float64bits(got[i]) != math.Float64bits(whole.Losses[i]) {
			t.Fatalf("step %d: loss %v after resume, %v uninterrupted", i+1, got[i], whole.Losses[i])
		}
	}
	if rest.FinalTop1 != whole.FinalTop1 || rest.FinalEMATop1 != whole.FinalEMATop1 || rest.BestTop1 != whole.BestTop1 {
		t.Errorf("final top-1 %v, EMA %v, best %v after resume; %v, %v, %v uninterrupted",
			rest.FinalTop1, rest.FinalEMATop1, rest.BestTop1, whole.FinalTop1, whole.FinalEMATop1, whole.BestTop1)
	}
	final := fmt.Sprintf("ckpt-%09d.safetensors", len(whole.Losses))
	train.SameCheckpointState(t, filepath.Join(c2.OutDir, final), filepath.Join(c.OutDir, final))
	train.SameCheckpointState(t, filepath.Join(c2.OutDir, "best.safetensors"), filepath.Join(c.OutDir, "best.safetensors"))
}

// oneCheckpoint trains a one-epoch run of 2 steps and returns its config,
// its one checkpoint's path (in a one-element slice) and the file's bytes.
func oneCheckpoint(t *testing.T) (train.Config, []string, []byte) {
	t.Helper()
	c := quick(t)
	c.Epochs, c.Stages, c.TrainLimit = 1, 1, 32
	run(t, context.Background(), c)
	ck, _ := filepath.Glob(filepath.Join(c.OutDir, "ckpt-*.safetensors"))
	if len(ck) != 1 {
		t.Fatalf("checkpoints: %v", ck)
	}
	before, err := os.ReadFile(ck[0])
	if err != nil {
		t.Fatal(err)
	}
	return c, ck, before
}

func TestBadInputs(t *testing.T) {
	t.Run("missing data dir", func(t *testing.T) {
		c := quick(t)
		c.DataDir = filepath.Join(t.TempDir(), "nope")
		_, err := train.Run(context.Background(), c, nil)
		if err == nil || !strings.Contains(err.Error(), "nope") {
			t.Fatalf("got %v, want an error naming the missing dir", err)
		}
	})
	t.Run("truncated idx", func(t *testing.T) {
		dir := t.TempDir()
		for _, f := range []string{"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"} {
			b, err := os.ReadFile(filepath.Join(subset, f))
			if err != nil {
				t.Fatal(err)
			}
			if f == "train-images-idx3-ubyte.gz" {
				b = b[:len(b)/2]
			}
			os.WriteFile(filepath.Join(dir, f), b, 0o644)
		}
		c := quick(t)
		c.DataDir = dir
		_, err := train.Run(context.Background(), c, nil)
		if err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte.gz") {
			t.Fatalf("got %v, want an error naming the truncated file", err)
		}
	})
	t.Run("corrupt image", func(t *testing.T) {
		root := t.TempDir()
		for _, split := range []string{"train", "val"} {
			for _, class := range []string{"a", "b"} {
				dir := filepath.Join(root, split, class)
				os.MkdirAll(dir, 0o755)
				for i := 0; i < 4; i++ {
					img := image.NewGray(image.Rect(0, 0, 16, 16))
					img.Set(i, i, color.Gray{Y: 200})
					f, _ := os.Create(filepath.Join(dir, string(rune('0'+i))+".png"))
					png.Encode(f, img)
					f.Close()
				}
			}
		}
		bad := filepath.Join(root, "train", "b", "broken.png")
		os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\nnot really"), 0o644)
		c := quick(t)
		c.Dataset, c.DataDir = "imagefolder", root
		c.TrainLimit, c.TestLimit, c.BatchSize, c.Epochs, c.Stages = 0, 0, 3, 1, 1
		_, err := train.Run(context.Background(), c, nil)
		if err == nil || !strings.Contains(err.Error(), "broken.png") {
			t.Fatalf("got %v, want an error naming broken.png", err)
		}
		// With SkipCorrupt the run goes on without it.
		c.SkipCorrupt, c.OutDir = true, t.TempDir()
		if res := run(t, context.Background(), c); res.Steps == 0 {
			t.Fatal("no step trained with --skip-corrupt")
		}
	})
	t.Run("checkpoint of another model", func(t *testing.T) {
		c, ck, before := oneCheckpoint(t)
		c.Model, c.Resume = "efficientnetv2-b0", true
		_, err := train.Run(context.Background(), c, nil)
		if err == nil || !strings.Contains(err.Error(), "another model") && !strings.Contains(err.Error(), "--model") {
			t.Fatalf("got %v, want an error saying the checkpoint is of another model", err)
		}
		after, _ := os.ReadFile(ck[0])
		if string(before) != string(after) {
			t.Fatal("the checkpoint was written over")
		}
	})
	t.Run("another run in --out", func(t *testing.T) {
		c, ck, before := oneCheckpoint(t)
		c.Epochs = 2 // a different run
		_, err := train.Run(context.Background(), c, nil)
		if err == nil || !strings.Contains(err.Error(), "--resume") || !strings.Contains(err.Error(), "--overwrite") {
			t.Fatalf("got %v, want an error offering --resume and --overwrite", err)
		}
		if after, _ := os.ReadFile(ck[0]); string(before) != string(after) {
			t.Fatal("the other run's checkpoint was written over")
		}
		c.Overwrite = true
		res := run(t, context.Background(), c)
		now, _ := filepath.Glob(filepath.Join(c.OutDir, "ckpt-*.safetensors"))
		if res.Steps != 4 || len(now) == 0 || now[len(now)-1] != filepath.Join(c.OutDir, "ckpt-000000004.safetensors") {
			t.Fatalf("with --overwrite: %d steps, checkpoints %v: want 4 steps and the new run's checkpoints", res.Steps, now)
		}
		// The new run writes a checkpoint of the same name at step 2: its
		// own (its config says 2 epochs), not the old one.
		if after, err := os.ReadFile(ck[0]); err == nil && string(after) == string(before) {
			t.Fatalf("the old run's %s survived --overwrite", ck[0])
		}
	})
	t.Run("impossible flags", func(t *testing.T) {
		c := quick(t)
		c.Epochs, c.Stages = 1, 4
		if _, err := train.Run(context.Background(), c, nil); err == nil || !strings.Contains(err.Error(), "stages") {
			t.Fatalf("1 epoch in 4 stages: %v", err)
		}
		c.BatchSize = 1
		if _, err := train.Run(context.Background(), c, nil); err == nil || !strings.Contains(err.Error(), "batch") {
			t.Fatalf("batch 1: %v", err)
		}
		c = quick(t)
		c.CutMixAlpha = -1
		if _, err := train.Run(context.Background(), c, nil); err == nil || !strings.Contains(err.Error(), "--cutmix") {
			t.Fatalf("cutmix -1: %v", err)
		}
	})
}

// TestCutMixReachesTheStep trains the same steps with and without CutMix:
// the losses must differ from the first step on (the pasted boxes and soft
// targets reach the device) and stay finite, and a CutMix run repeats
// bitwise.
func TestCutMixReachesTheStep(t *testing.T) {
	c := quick(t)
	c.TrainLimit, c.TestLimit, c.Epochs, c.Stages = 64, 50, 1, 1
	plain := run(t, context.Background(), c)
	c.CutMixAlpha, c.OutDir = 1, t.TempDir()
	mixed := run(t, context.Background(), c)
	c.OutDir = t.TempDir()
	again := run(t, context.Background(), c)
	if len(mixed.Losses) != len(plain.Losses) || len(mixed.Losses) == 0 {
		t.Fatalf("%d steps with CutMix, %d without", len(mixed.Losses), len(plain.Losses))
	}
	for i, l := range mixed.Losses {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			t.Fatalf("step %d: loss %v with CutMix", i, l)
		}
		if math.Float64bits(l) != math.Float64bits(again.Losses[i]) {
			t.Fatalf("step %d: CutMix loss %v, then %v with the same seed", i, l, again.Losses[i])
		}
	}
	if mixed.Losses[0] == plain.Losses[0] {
		t.Fatalf("first loss %v with CutMix as without: CutMix did not reach the step", mixed.Losses[0])
	}
}
