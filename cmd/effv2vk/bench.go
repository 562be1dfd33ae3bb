package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"time"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/optim"
	"github.com/urfave/cli/v2"
)

// modelBench is the result of `effv2vk bench --model`.
type modelBench struct {
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
	// ForwardMemoryMiB is what the forward-only graph allocates, and
	// ForwardActivations its activation tensors, held in ForwardBuffers
	// buffers by the memory plan.
	ForwardMemoryMiB   float64            `json:"forward_graph_memory_mib"`
	ForwardActivations int                `json:"forward_activations"`
	ForwardBuffers     int                `json:"forward_activation_buffers"`
	Dispatches         int                `json:"dispatches_per_train_step"`
	Kernels            []kernelTimeReport `json:"kernels"`
}

type kernelTimeReport struct {
	Name    string  `json:"name"`
	Count   int     `json:"count"`
	TotalMs float64 `json:"total_ms"`
	MeanUs  float64 `json:"mean_us"`
}

func benchCommand() *cli.Command {
	return &cli.Command{
		Name:  "bench",
		Usage: "time a training step (forward + backward + RMSProp) and a forward pass of a model; `bench ops` times kernels",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Value: "efficientnetv2-s"},
			&cli.IntFlag{Name: "classes", Value: 1000},
			&cli.IntFlag{Name: "batch-size", Value: 8},
			&cli.IntFlag{Name: "image-size", Value: 128},
			&cli.IntFlag{Name: "steps", Value: 5, Usage: "timed steps (median reported)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		},
		Subcommands: []*cli.Command{benchOpsCommand()},
		Action: func(c *cli.Context) error {
			cfg, err := arch.Lookup(c.String("model"), c.Int("classes"))
			if err != nil {
				return err
			}
			steps := c.Int("steps")
			if steps < 1 || c.Int("batch-size") < 1 {
				return fmt.Errorf("--steps and --batch-size must be at least 1")
			}
			d, err := engine.Open(engine.Options{Select: c.String("device")})
			if err != nil {
				return err
			}
			defer d.Close()
			res, err := benchModel(d, cfg, c.Int("batch-size"), c.Int("image-size"), steps)
			if err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Printf("device: %s\nmodel: %s, batch %d, %dx%d, %d classes, median of %d steps\n", res.Device, res.Model, res.Batch, res.ImageSize, res.ImageSize, res.Classes, res.Steps)
			fmt.Printf("training step: %.1f ms (%.1f img/s), %d dispatches\n", res.TrainStepMs, res.TrainImgPerS, res.Dispatches)
			fmt.Printf("forward (eval): %.1f ms (%.1f img/s)\n", res.ForwardMs, res.ForwardImgPS)
			fmt.Printf("peak device memory: %.1f MiB (planned state %.1f MiB, activations and scratch %.1f MiB)\n", res.PeakMemoryMiB, res.PlanStateMiB, res.ActivationsMiB)
			fmt.Printf("forward-only graph: %.1f MiB (%d activations in %d buffers)\n", res.ForwardMemoryMiB, res.ForwardActivations, res.ForwardBuffers)
			fmt.Println("top kernels of one training step (GPU timestamps):")
			fmt.Printf("  %-36s %6s %10s %10s\n", "kernel", "count", "total ms", "mean us")
			for _, k := range res.Kernels {
				fmt.Printf("  %-36s %6d %10.2f %10.1f\n", k.Name, k.Count, k.TotalMs, k.MeanUs)
			}
			return nil
		},
	}
}

// median times fn n times after one warm-up run.
func median(n int, fn func() error) (float64, error) {
	if err := fn(); err != nil {
		return 0, err
	}
	ms := make([]float64, n)
	for i := range ms {
		start := time.Now()
		if err := fn(); err != nil {
			return 0, err
		}
		ms[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	sort.Float64s(ms)
	return ms[n/2], nil
}

func benchModel(d *engine.Device, cfg arch.Config, batch, size, steps int) (*modelBench, error) {
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
		return m.Record(net.GraphConfig{Batch: batch, Size: size, Train: true, UpdateRunning: true, Backward: true, Profile: profile},
			func(s *engine.Sequence) error { opt.Record(s); return s.Err() })
	}
	train, err := record(false)
	if err != nil {
		return nil, err
	}
	defer train.Free()
	x := randomInput(batch, size)
	if err := train.Input.Upload(x); err != nil {
		return nil, err
	}
	labels := make([]int32, batch)
	for i := range labels {
		labels[i] = int32(i % cfg.Classes)
	}
	if err := train.Labels.Upload(labels); err != nil {
		return nil, err
	}
	trainMs, err := median(steps, train.Run)
	if err != nil {
		return nil, err
	}
	res := &modelBench{Device: d.Info.Name, Model: cfg.Name, Batch: batch, ImageSize: size, Classes: cfg.Classes, Steps: steps,
		TrainStepMs: trainMs, TrainImgPerS: float64(batch) / trainMs * 1000, Dispatches: train.Seq.Dispatches()}
	res.PeakMemoryMiB = float64(d.Memory().Peak) / (1 << 20)
	res.Plan = plan
	res.PlanStateMiB = float64(plan.Total()) / (1 << 20)
	res.ActivationsMiB = float64(d.Memory().Peak-plan.Total()) / (1 << 20)

	before := d.Memory().InUse
	fwd, err := m.Record(net.GraphConfig{Batch: batch, Size: size}, nil)
	if err != nil {
		return nil, err
	}
	defer fwd.Free()
	res.ForwardMemoryMiB = float64(d.Memory().InUse-before) / (1 << 20)
	res.ForwardActivations, res.ForwardBuffers = fwd.ActivationPlan()
	if err := fwd.Input.Upload(x); err != nil {
		return nil, err
	}
	if res.ForwardMs, err = median(steps, fwd.Run); err != nil {
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
	prof.Input.Upload(x)
	prof.Labels.Upload(labels)
	if err := prof.Run(); err != nil {
		return nil, err
	}
	for i, k := range prof.Seq.Profile() {
		if i == 15 {
			break
		}
		res.Kernels = append(res.Kernels, kernelTimeReport{Name: k.Name, Count: k.Count, TotalMs: float64(k.Total.Microseconds()) / 1000, MeanUs: float64(k.Mean().Nanoseconds()) / 1000})
	}
	return res, nil
}

// randomInput is a deterministic batch [N,3,S,S] uniform in [-1, 1).
func randomInput(n, size int) []float32 {
	x := make([]float32, n*3*size*size)
	s := uint64(12345)
	for i := range x {
		s = s*6364136223846793005 + 1442695040888963407
		x[i] = float32(s>>40)/float32(1<<24)*2 - 1
	}
	return x
}
