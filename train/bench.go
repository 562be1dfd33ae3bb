package train

import (
	"fmt"
	"sort"
	"time"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/optim"
)

// ModelBench is what BenchModel measures (`effv2vk bench --model`).
type ModelBench struct {
	Device        string  `json:"device"`
	Model         string  `json:"model"`
	Batch         int     `json:"batch"`
	ImageSize     int     `json:"image_size"`
	Classes       int     `json:"classes"`
	Steps         int     `json:"steps"`
	TrainStepMs   float64 `json:"train_step_ms"` // median
	TrainImgPerS  float64 `json:"train_img_per_s"`
	ForwardMs     float64 `json:"forward_ms"` // median, eval mode
	ForwardImgPS  float64 `json:"forward_img_per_s"`
	PeakMemoryMiB float64 `json:"peak_device_memory_mib"`
	// Plan is the model state planned before allocation (parameters,
	// gradients, statistics, RMSProp state), PlanStateMiB its total, and
	// ActivationsMiB the rest of the peak: activations and scratch of the
	// recorded training step.
	Plan           net.StatePlan `json:"state_plan"`
	PlanStateMiB   float64       `json:"planned_state_mib"`
	ActivationsMiB float64       `json:"activations_and_scratch_mib"`
	// PlanActivationsMiB is the training step's activations and scratch as
	// planned before their allocation (net.Model.PlanGraph), and
	// PlanPeakMiB the planned peak of a training step: state plus those.
	PlanActivationsMiB float64 `json:"planned_activations_and_scratch_mib"`
	PlanPeakMiB        float64 `json:"planned_peak_mib"`
	// ForwardMemoryMiB is what the forward-only graph allocates, and
	// ForwardActivations its activation tensors, held in ForwardBuffers
	// buffers by the memory plan.
	ForwardMemoryMiB   float64      `json:"forward_graph_memory_mib"`
	ForwardActivations int          `json:"forward_activations"`
	ForwardBuffers     int          `json:"forward_activation_buffers"`
	Dispatches         int          `json:"dispatches_per_train_step"`
	ForwardDispatches  int          `json:"dispatches_per_forward"`
	Kernels            []KernelTime `json:"kernels"`
}

// KernelTime is one kernel's GPU time in a profiled training step.
type KernelTime struct {
	Name    string  `json:"name"`
	Count   int     `json:"count"`
	TotalMs float64 `json:"total_ms"`
	MeanUs  float64 `json:"mean_us"`
}

// MedianMs runs fn once to warm up (pipeline compilation, caches), then n
// times, and returns the median wall time in milliseconds.
func MedianMs(n int, fn func() error) (float64, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	ms := make([]float64, max(n, 1))
	for i := range ms {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ms[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	sort.Float64s(ms)
	return ms[len(ms)/2], nil
}

// BenchModel times cfg's training step (forward, loss, backward, RMSProp;
// batch images of size x size) and its eval-mode forward pass on d, each
// the median of steps replays, and lists the kernels of one profiled step.
func BenchModel(d *engine.Device, cfg arch.Config, batch, size, steps int) (*ModelBench, error) {
	if batch < 1 || steps < 1 {
		return nil, fmt.Errorf("train: bench of batch %d over %d steps: both must be at least 1", batch, steps)
	}
	plan := net.PlanState(d, cfg, 2, false) // RMSProp: two state tensors, no EMA
	if err := plan.Check(d, "a training step"); err != nil {
		return nil, err
	}
	m, err := net.NewModel(d, cfg, 1)
	if err != nil {
		return nil, err
	}
	defer m.Free()
	groups, err := optim.SplitDecay(d, m.Store.Params, m.Store.Grads, m.Store.DecayLen, 1e-5)
	if err != nil {
		return nil, err
	}
	defer optim.FreeGroups(groups)
	opt, err := optim.New("rmsprop", d, groups, optim.DefaultConfig())
	if err != nil {
		return nil, err
	}
	defer opt.Free()
	if err := opt.SetStep(0, 1e-4); err != nil {
		return nil, err
	}
	record := func(profile bool) (*net.Graph, error) {
		gc := BenchStep(batch, size)
		gc.Profile = profile
		return m.Record(gc, func(s *engine.Sequence) error { opt.Record(s); return s.Err() })
	}
	step, err := record(false)
	if err != nil {
		return nil, err
	}
	defer step.Free()
	x := benchInput(batch, size)
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(i % cfg.Classes)
	}
	if err := uploadBenchBatch(step, x, labels); err != nil {
		return nil, err
	}
	trainMs, err := MedianMs(steps, step.Run)
	if err != nil {
		return nil, err
	}
	res := &ModelBench{Device: d.Info.Name, Model: cfg.Name, Batch: batch, ImageSize: size, Classes: cfg.Classes, Steps: steps,
		TrainStepMs: trainMs, TrainImgPerS: float64(batch) / trainMs * 1000, Dispatches: step.Seq.Dispatches()}
	res.PeakMemoryMiB = float64(d.Memory().Peak) / (1 << 20)
	res.Plan = plan
	res.PlanStateMiB = float64(plan.Total()) / (1 << 20)
	res.ActivationsMiB = float64(d.Memory().Peak-plan.Total()) / (1 << 20)
	res.PlanActivationsMiB = float64(step.PlannedBytes) / (1 << 20)
	res.PlanPeakMiB = float64(plan.Total()+step.PlannedBytes) / (1 << 20)

	before := d.Memory().InUse
	fwd, err := m.Record(BenchForward(batch, size), nil)
	if err != nil {
		return nil, err
	}
	defer fwd.Free()
	res.ForwardMemoryMiB = float64(d.Memory().InUse-before) / (1 << 20)
	res.ForwardActivations, res.ForwardBuffers = fwd.ActivationPlan()
	res.ForwardDispatches = fwd.Seq.Dispatches()
	if err := fwd.Input.Upload(x); err != nil {
		return nil, err
	}
	if res.ForwardMs, err = MedianMs(steps, fwd.Run); err != nil {
		return nil, err
	}
	res.ForwardImgPS = float64(batch) / res.ForwardMs * 1000

	// Kernel times from a separately recorded, profiled step (timestamps
	// themselves cost a little).
	prof, err := record(true)
	if err != nil {
		return nil, err
	}
	defer prof.Free()
	if err := uploadBenchBatch(prof, x, labels); err != nil {
		return nil, err
	}
	if err := prof.Run(); err != nil {
		return nil, err
	}
	for _, k := range prof.Seq.Profile() {
		res.Kernels = append(res.Kernels, KernelTime{Name: k.Name, Count: k.Count, TotalMs: float64(k.Total.Microseconds()) / 1000, MeanUs: float64(k.Mean().Nanoseconds()) / 1000})
	}
	return res, nil
}

func uploadBenchBatch(g *net.Graph, x []float32, labels []int32) error {
	if err := g.Input.Upload(x); err != nil {
		return err
	}
	return g.Labels.Upload(labels)
}

// benchInput is a deterministic batch [N,3,S,S] uniform in [-1, 1).
func benchInput(n, size int) []float32 {
	x := make([]float32, n*3*size*size)
	s := uint64(12345)
	for i := range x {
		s = s*6364136223846793005 + 1442695040888963407
		x[i] = float32(s>>40)/float32(1<<24)*2 - 1
	}
	return x
}

// BenchStep is the training step BenchModel times (float input, no
// regularization; the RMSProp update is appended).
func BenchStep(batch, size int) net.GraphConfig {
	return net.GraphConfig{Batch: batch, Size: size, Train: true, UpdateRunning: true, Backward: true}
}

// BenchForward is the evaluation forward pass BenchModel times.
func BenchForward(batch, size int) net.GraphConfig {
	return net.GraphConfig{Batch: batch, Size: size}
}
