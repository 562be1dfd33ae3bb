package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/optim"
	"github.com/urfave/cli/v2"
)

func tuneCommand() *cli.Command {
	return &cli.Command{
		Name:  "tune",
		Usage: "time the kernel variants of a model's training step on this device and cache the fastest (train and bench then use them)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Value: "efficientnetv2-s"},
			&cli.IntFlag{Name: "classes", Value: 1000},
			&cli.IntFlag{Name: "batch-size", Value: 8},
			&cli.IntFlag{Name: "image-size", Value: 128},
			&cli.StringFlag{Name: "optimizer", Value: "rmsprop", Usage: "the optimizer whose update is tuned too: " + strings.Join(optim.Names(), ", ")},
		},
		Action: func(c *cli.Context) error {
			cfg, err := arch.Lookup(c.String("model"), c.Int("classes"))
			if err != nil {
				return err
			}
			batch, size := c.Int("batch-size"), c.Int("image-size")
			if batch < 1 || size < 1 {
				return fmt.Errorf("--batch-size and --image-size must be at least 1")
			}
			on, err := engine.TuningEnabled()
			if err != nil {
				return err
			}
			if !on {
				return fmt.Errorf("tuning is off (%s=%s): unset it or set it to on", engine.TuneEnv, os.Getenv(engine.TuneEnv))
			}
			return withDevice(c.String("device"), func(d *engine.Device) error {
				results, err := tuneModel(d, cfg, batch, size, c.String("optimizer"), os.Stderr)
				if err != nil {
					return err
				}
				fmt.Printf("device: %s\nmodel: %s, batch %d, %dx%d; cache: %s\n", d.Info.Name, cfg.Name, batch, size, size, d.TuneCachePath())
				writeTuneTable(os.Stdout, results)
				return nil
			})
		},
	}
}

// tuneModel records cfg's training graph at batch and size on d, with
// optimizer's update of the model's parameters, which makes every tunable
// operation ask the tuner (timing or reading the cache), with a progress
// line on progress; it returns the decisions.
func tuneModel(d *engine.Device, cfg arch.Config, batch, size int, optimizer string, progress io.Writer) ([]engine.TuneResult, error) {
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
	opt, err := optim.New(optimizer, d, groups, optim.DefaultConfig())
	if err != nil {
		return nil, err
	}
	defer opt.Free()
	n := 0
	d.OnTune(func(r engine.TuneResult) {
		n++
		fmt.Fprintf(progress, "\rtuning: %d operations (%s %s: %s)\033[K", n, r.Op, r.Shape, r.Source)
	})
	defer d.OnTune(nil)
	g, err := m.Record(net.GraphConfig{Batch: batch, Size: size, Train: true, UpdateRunning: true, Backward: true},
		func(s *engine.Sequence) error { opt.Record(s); return s.Err() })
	fmt.Fprintln(progress)
	if err != nil {
		return nil, err
	}
	g.Free()
	return d.TuneResults(), nil
}

// writeTuneTable prints one row per operation and shape: the chosen and
// default variants, the speedup of the choice over the default, and each
// candidate's median time; then the totals over the timed operations.
func writeTuneTable(w io.Writer, results []engine.TuneResult) {
	fmt.Fprintf(w, "%-26s %-46s %-11s %-11s %-9s %-8s %s\n", "op", "shape", "chosen", "default", "source", "speedup", "candidates (median us)")
	var chosen, def time.Duration
	timed := 0
	for _, r := range results {
		names := make([]string, 0, len(r.Times))
		for name := range r.Times {
			names = append(names, name)
		}
		sort.Slice(names, func(i, j int) bool { return r.Times[names[i]] < r.Times[names[j]] })
		cands := make([]string, len(names))
		for i, name := range names {
			cands[i] = fmt.Sprintf("%s %.1f", name, float64(r.Times[name])/1e3)
		}
		fmt.Fprintf(w, "%-26s %-46s %-11s %-11s %-9s %7.2fx %s\n", r.Op, r.Shape, r.Variant, r.Default, r.Source, r.Speedup(), strings.Join(cands, ", "))
		if r.Times[r.Variant] > 0 && r.Times[r.Default] > 0 {
			chosen += r.Times[r.Variant]
			def += r.Times[r.Default]
			timed++
		}
	}
	if chosen > 0 {
		fmt.Fprintf(w, "total over %d operations: defaults %.2f ms, chosen %.2f ms (%.2fx)\n", timed, float64(def)/1e6, float64(chosen)/1e6, float64(def)/float64(chosen))
	}
}
