package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/train"
	"github.com/urfave/cli/v2"
)

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
			&cli.BoolFlag{Name: "json", Usage: "print JSON (every kernel of the step)"},
			&cli.IntFlag{Name: "kernels", Value: 15, Usage: "how many of the step's kernels to list, most expensive first (0: all)"},
		},
		Subcommands: []*cli.Command{benchOpsCommand(), benchDataCommand()},
		Action: func(c *cli.Context) error {
			cfg, err := arch.Lookup(c.String("model"), c.Int("classes"))
			if err != nil {
				return err
			}
			steps := c.Int("steps")
			if steps < 1 || c.Int("batch-size") < 1 {
				return fmt.Errorf("--steps and --batch-size must be at least 1")
			}
			if c.Int("kernels") < 0 {
				return fmt.Errorf("--kernels %d: give how many kernels to list, or 0 for all", c.Int("kernels"))
			}
			var res *train.ModelBench
			if err := withDevice(c.String("device"), func(d *engine.Device) (err error) {
				res, err = train.BenchModel(d, cfg, c.Int("batch-size"), c.Int("image-size"), steps)
				return err
			}); err != nil {
				return err
			}
			if c.Bool("json") {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(res)
			}
			fmt.Printf("device: %s\nmodel: %s, batch %d, %dx%d, %d classes, median of %d steps\n", res.Device, res.Model, res.Batch, res.ImageSize, res.ImageSize, res.Classes, res.Steps)
			fmt.Printf("training step: %.1f ms (%.1f img/s), %d dispatches\n", res.TrainStepMs, res.TrainImgPerS, res.Dispatches)
			fmt.Printf("forward (eval): %.1f ms (%.1f img/s), %d dispatches\n", res.ForwardMs, res.ForwardImgPS, res.ForwardDispatches)
			fmt.Printf("peak device memory: %.1f MiB (planned state %.1f MiB, activations and scratch %.1f MiB)\n", res.PeakMemoryMiB, res.PlanStateMiB, res.ActivationsMiB)
			fmt.Printf("planned before allocation: %.1f MiB (state %.1f MiB, training step's activations and scratch %.1f MiB)\n", res.PlanPeakMiB, res.PlanStateMiB, res.PlanActivationsMiB)
			fmt.Printf("forward-only graph: %.1f MiB (%d activations in %d buffers)\n", res.ForwardMemoryMiB, res.ForwardActivations, res.ForwardBuffers)
			shown := res.Kernels
			if n := c.Int("kernels"); n > 0 && n < len(shown) {
				shown = shown[:n]
			}
			fmt.Printf("kernels of one training step, most expensive first (GPU timestamps; %d of %d, --kernels 0 lists all):\n", len(shown), len(res.Kernels))
			fmt.Printf("  %-36s %6s %10s %10s\n", "kernel", "count", "total ms", "mean us")
			for _, k := range shown {
				fmt.Printf("  %-36s %6d %10.2f %10.1f\n", k.Name, k.Count, k.TotalMs, k.MeanUs)
			}
			return nil
		},
	}
}
