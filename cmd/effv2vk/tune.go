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
		Usage: "time the kernel variants of a model's training step and evaluation on this device and cache the fastest (train and bench then use them)",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Value: "efficientnetv2-s"},
			&cli.IntFlag{Name: "classes", Value: 1000},
			&cli.IntFlag{Name: "batch-size", Value: 8},
			&cli.IntFlag{Name: "image-size", Value: 128},
			&cli.IntFlag{Name: "eval-batch-size", Usage: "with --raw-size, the batch of train's evaluation on raw images (`effv2vk train` evaluates in batches of 200; 0: --batch-size); bench's evaluation at --batch-size is tuned always"},
			&cli.IntFlag{Name: "raw-size", Usage: "side of the uint8 images a training run feeds (28 for Fashion-MNIST, 32 for CIFAR; an image folder's first training image): also tunes train's step and evaluation on them, with the EMA update (0: only bench's graphs)"},
			&cli.IntFlag{Name: "raw-channels", Value: 1, Usage: "channels of those images: 1 (gray) or 3 (RGB)"},
			&cli.StringFlag{Name: "optimizer", Value: "rmsprop", Usage: "the optimizer whose update is tuned too: " + strings.Join(optim.Names(), ", ")},
		},
		Action: func(c *cli.Context) error {
			cfg, err := arch.Lookup(c.String("model"), c.Int("classes"))
			if err != nil {
				return err
			}
			tg := tuneTarget{batch: c.Int("batch-size"), evalBatch: c.Int("eval-batch-size"), size: c.Int("image-size"), optimizer: c.String("optimizer")}
			if tg.evalBatch == 0 {
				tg.evalBatch = tg.batch
			}
			if tg.batch < 1 || tg.evalBatch < 1 || tg.size < 1 {
				return fmt.Errorf("--batch-size, --eval-batch-size and --image-size must be at least 1")
			}
			if raw, ch := c.Int("raw-size"), c.Int("raw-channels"); raw != 0 {
				if raw < 1 || (ch != 1 && ch != 3) {
					return fmt.Errorf("--raw-size %d --raw-channels %d: want a positive side and 1 (gray) or 3 (RGB) channels", raw, ch)
				}
				tg.raw = &net.RawInput{H: raw, W: raw, C: ch, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.25, 0.25, 0.25}}
			}
			on, err := engine.TuningEnabled()
			if err != nil {
				return err
			}
			if !on {
				return fmt.Errorf("tuning is off (%s=%s): unset it or set it to on", engine.TuneEnv, os.Getenv(engine.TuneEnv))
			}
			return withDevice(c.String("device"), func(d *engine.Device) error {
				results, err := tuneModel(d, cfg, tg, os.Stderr)
				if err != nil {
					return err
				}
				fmt.Printf("device: %s\nmodel: %s, batch %d (evaluation %d), %dx%d; cache: %s\n", d.Info.Name, cfg.Name, tg.batch, tg.evalBatch, tg.size, tg.size, d.TuneCachePath())
				writeTuneTable(os.Stdout, results)
				return nil
			})
		},
	}
}

// tuneTarget is what `effv2vk tune` records: the training step at batch
// and size with optimizer's update and the evaluation forward pass at
// batch, as `effv2vk bench` records them; with raw, also as `effv2vk
// train` records them (uint8 images prepared on the device,
// regularization, the EMA update, evaluation at evalBatch with the EMA
// weights swapped in).
type tuneTarget struct {
	batch, evalBatch, size int
	optimizer              string
	raw                    *net.RawInput
}

// tunedGraph is one graph tuneModel records: its configuration and what
// follows the backward pass (nil: nothing).
type tunedGraph struct {
	gc     net.GraphConfig
	update func(s *engine.Sequence) error
}

// tuneModel records cfg's graphs for tg on d (each freed before the next),
// which makes every tunable operation in them ask the tuner (timing or
// reading the cache), with a progress line on progress; it returns the
// decisions.
func tuneModel(d *engine.Device, cfg arch.Config, tg tuneTarget, progress io.Writer) ([]engine.TuneResult, error) {
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
	opt, err := optim.New(tg.optimizer, d, groups, optim.DefaultConfig())
	if err != nil {
		return nil, err
	}
	defer opt.Free()
	ema, err := optim.NewEMA(d, m.Store.Params, m.Store.Stats, 0.999)
	if err != nil {
		return nil, err
	}
	defer ema.Free()
	n := 0
	d.OnTune(func(r engine.TuneResult) {
		n++
		fmt.Fprintf(progress, "\rtuning: %d operations (%s %s: %s)\033[K", n, r.Op, r.Shape, r.Source)
	})
	defer d.OnTune(nil)
	defer fmt.Fprintln(progress)
	step := net.GraphConfig{Batch: tg.batch, Size: tg.size, Train: true, UpdateRunning: true, Backward: true}
	update := func(s *engine.Sequence) error { opt.Record(s); return s.Err() }
	graphs := []tunedGraph{{step, update}, {net.GraphConfig{Batch: tg.batch, Size: tg.size}, nil}}
	if tg.raw != nil {
		trainStep := step
		trainStep.Regularize, trainStep.Dropout, trainStep.LabelSmoothing, trainStep.Raw = true, 0.2, 0.1, tg.raw
		withEMA := func(s *engine.Sequence) error { opt.Record(s); ema.Record(s); return s.Err() }
		graphs = append(graphs, tunedGraph{trainStep, withEMA}, tunedGraph{net.GraphConfig{Batch: tg.evalBatch, Size: tg.size, Raw: tg.raw}, nil})
	}
	for _, gr := range graphs {
		g, err := m.Record(gr.gc, gr.update)
		if err != nil {
			return nil, err
		}
		g.Free()
	}
	if tg.raw != nil { // train evaluates with the EMA weights swapped in
		s, err := d.NewSequence("tune ema swap", engine.SequenceOptions{})
		if err != nil {
			return nil, err
		}
		ema.Swap(s)
		err = s.Err()
		s.Release()
		if err != nil {
			return nil, err
		}
	}
	return d.TuneResults(), nil
}

// writeTuneTable prints one row per operation and shape: the chosen and
// default variants, the speedup of the choice over the default, and each
// candidate's median time (and the rematch's times, where a variant beat
// the default in the race); then the totals over the timed operations.
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
		rematch := ""
		if r.Rematch != nil {
			rematch = "; rematch " + rematchText(r)
		}
		fmt.Fprintf(w, "%-26s %-46s %-11s %-11s %-9s %7.2fx %s%s\n", r.Op, r.Shape, r.Variant, r.Default, r.Source, r.Speedup(), strings.Join(cands, ", "), rematch)
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

// rematchText is r's rematch: the challenger's and the default's times in
// microseconds.
func rematchText(r engine.TuneResult) string {
	var parts []string
	for name, t := range r.Rematch {
		if name != r.Default {
			parts = append(parts, fmt.Sprintf("%s %.1f", name, float64(t)/1e3))
		}
	}
	return strings.Join(append(parts, fmt.Sprintf("%s %.1f", r.Default, float64(r.Rematch[r.Default])/1e3)), " vs ")
}
