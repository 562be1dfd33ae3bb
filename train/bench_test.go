package train_test

import (
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/train"
)

// TestBenchModel times pico's step once at a tiny size: every figure is
// filled in and the kernel list is the most expensive first.
func TestBenchModel(t *testing.T) {
	d := enginetest.Open(t)
	cfg, err := arch.Lookup("efficientnetv2-pico", 10)
	if err != nil {
		t.Fatal(err)
	}
	res, err := train.BenchModel(d, cfg, 2, 32, 1)
	if err != nil {
		t.Fatal(err)
	}
	if res.Steps != 1 || !(res.TrainStepMs > 0) || !(res.ForwardMs > 0) || !(res.TrainImgPerS > 0) || res.Dispatches < 50 ||
		!(res.PeakMemoryMiB > 0) || res.ForwardBuffers < 1 || res.ForwardActivations < res.ForwardBuffers {
		t.Fatalf("bench figures: %+v", res)
	}
	// The step's memory planned before allocation (state plan plus the
	// graph's planned activations and scratch) is the peak measured after,
	// up to the optimizer's few bytes of per-step values, which the state
	// plan leaves out.
	if apart := (res.PeakMemoryMiB - res.PlanPeakMiB) * (1 << 20); !(res.PlanActivationsMiB > 0) || apart < 0 || apart > 4096 {
		t.Errorf("planned peak %.4f MiB (activations and scratch %.4f MiB), measured peak %.4f MiB: %.0f bytes apart",
			res.PlanPeakMiB, res.PlanActivationsMiB, res.PeakMemoryMiB, apart)
	}
	counted := 0
	for _, k := range res.Kernels {
		counted += k.Count
	}
	if len(res.Kernels) == 0 || counted != res.Dispatches {
		t.Fatalf("%d kernels listed with %d dispatches, want every one of the step's %d", len(res.Kernels), counted, res.Dispatches)
	}
	for i := 1; i < len(res.Kernels); i++ {
		if res.Kernels[i].TotalMs > res.Kernels[i-1].TotalMs {
			t.Fatalf("kernel list not most expensive first: %+v", res.Kernels)
		}
	}
	if _, err := train.BenchModel(d, cfg, 2, 32, 0); err == nil || !strings.Contains(err.Error(), "at least 1") {
		t.Fatalf("0 steps: %v", err)
	}
	enginetest.Check(t, d)
}
