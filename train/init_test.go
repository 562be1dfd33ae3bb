package train_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/safetensors"
	"github.com/effv2vk/effv2vk/train"
)

// initFile writes pico weights for classes (seeded initialization with
// random BN running statistics, as a pretrained file has) and returns the
// path and the values.
func initFile(t *testing.T, classes int) (string, map[string][]float32) {
	t.Helper()
	cfg, err := arch.Lookup("efficientnetv2-pico", classes)
	if err != nil {
		t.Fatal(err)
	}
	values := net.InitHost(cfg, 42)
	r := rand.New(rand.NewPCG(9, 9))
	for _, p := range cfg.Params() {
		switch p.Role {
		case arch.BNRunningMean, arch.BNBias:
			for i := range values[p.Name] {
				values[p.Name][i] = float32(r.NormFloat64() * 0.1)
			}
		case arch.BNRunningVar, arch.BNWeight:
			for i := range values[p.Name] {
				values[p.Name][i] = float32(0.5 + r.Float64())
			}
		case arch.BNBatchesTracked:
			values[p.Name] = []float32{1234}
		}
	}
	sd, err := net.StateDict(cfg.Params(), values)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "init.safetensors")
	if err := safetensors.WriteFile(path, sd, nil); err != nil {
		t.Fatal(err)
	}
	return path, values
}

// fineTune trains one short epoch from a 1000-class init file on the
// 10-class subset and returns the init values and the run's exported
// (checkpoint) weights.
func fineTune(t *testing.T, lr float64, freeze int) (init, got map[string][]float32) {
	t.Helper()
	path, init := initFile(t, 1000)
	c := quick(t)
	c.Epochs, c.Stages, c.TrainLimit, c.TestLimit = 1, 1, 64, 50
	c.WarmupEpochs = 0
	c.LR, c.Init, c.Freeze = lr, path, freeze
	if res := run(t, context.Background(), c); res.Steps != 4 {
		t.Fatalf("%d steps, want 4", res.Steps)
	}
	ck, err := train.OpenCheckpoint(c.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	got, err = ck.Weights(false)
	if err != nil {
		t.Fatal(err)
	}
	return init, got
}

func bitwiseEqual(a, b []float32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			return false
		}
	}
	return true
}

// TestFineTuneAtZeroLRKeepsTheInit: with learning rate 0, every trainable
// parameter except the re-initialized classifier is bitwise the init
// file's after training; the BN running statistics, loaded from the file,
// moved on from it (they are updated in train mode).
func TestFineTuneAtZeroLRKeepsTheInit(t *testing.T) {
	init, got := fineTune(t, 0, 0)
	cfg, _ := arch.Lookup("efficientnetv2-pico", 10)
	moved := 0
	for _, p := range cfg.Params() {
		switch {
		case strings.HasPrefix(p.Name, "classifier."):
			if len(got[p.Name]) != p.Elements() {
				t.Errorf("%s: %d values, want the 10-class %d", p.Name, len(got[p.Name]), p.Elements())
			}
		case p.Trainable:
			if !bitwiseEqual(got[p.Name], init[p.Name]) {
				t.Errorf("%s changed at learning rate 0", p.Name)
			}
		case p.Role == arch.BNRunningMean:
			if !bitwiseEqual(got[p.Name], init[p.Name]) {
				moved++
			}
		}
	}
	if moved == 0 {
		t.Error("no BN running mean moved from the file's: were they loaded and updated?")
	}
}

// TestFreezeKeepsTheStemAndFirstStages fine-tunes with a real learning rate
// and --freeze 3 (the stem and stages 1 and 2): their parameters and BN
// statistics stay bitwise the file's, the later layers train.
func TestFreezeKeepsTheStemAndFirstStages(t *testing.T) {
	init, got := fineTune(t, 0.01, 3)
	cfg, _ := arch.Lookup("efficientnetv2-pico", 10)
	frozen, trained := 0, 0
	for _, p := range cfg.Params() {
		if p.Role == arch.BNBatchesTracked || strings.HasPrefix(p.Name, "classifier.") {
			continue
		}
		same := bitwiseEqual(got[p.Name], init[p.Name])
		switch {
		case net.IsFrozen(p.Name, 3):
			frozen++
			if !same {
				t.Errorf("frozen %s changed", p.Name)
			}
		case p.Role == arch.ConvWeight && !same:
			trained++
		}
	}
	if frozen == 0 || trained == 0 {
		t.Fatalf("%d frozen entries checked, %d later conv weights trained: want both > 0", frozen, trained)
	}
}

func TestInitAndFreezeErrors(t *testing.T) {
	t.Run("init of another model", func(t *testing.T) {
		c := quick(t)
		c.Init = filepath.Join(t.TempDir(), "w.safetensors")
		b0, _ := arch.Lookup("efficientnetv2-b0", 10)
		sd, err := net.StateDict(b0.Params(), net.InitHost(b0, 1))
		if err != nil {
			t.Fatal(err)
		}
		if err := safetensors.WriteFile(c.Init, sd, nil); err != nil {
			t.Fatal(err)
		}
		_, err = train.Run(context.Background(), c, nil)
		if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "--init") {
			t.Fatalf("got %v, want the mismatch listed with a hint on --init", err)
		}
	})
	t.Run("freeze out of range", func(t *testing.T) {
		c := quick(t)
		c.Freeze = 9
		_, err := train.Run(context.Background(), c, nil)
		if err == nil || !strings.Contains(err.Error(), "--freeze 9") {
			t.Fatalf("got %v, want an error on --freeze 9", err)
		}
	})
	t.Run("negative lr", func(t *testing.T) {
		c := quick(t)
		c.LR = -1
		if _, err := train.Run(context.Background(), c, nil); err == nil || !strings.Contains(err.Error(), "--lr") {
			t.Fatalf("got %v, want an error on --lr", err)
		}
	})
}
