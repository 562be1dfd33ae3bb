package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/optim"
	"github.com/effv2vk/effv2vk/train"
	"github.com/urfave/cli/v2"
)

func tuneCommand() *cli.Command {
	return &cli.Command{
		Name:      "tune",
		Usage:     "time the kernel variants of a model's training step and evaluation on this device and cache the fastest (train and bench then use them)",
		UsageText: "effv2vk tune [--model M] [--batch-size B] [--image-size S[,S2,...]] [--raw-size R [--raw-channels C] [--eval-batch-size E]]\neffv2vk tune train [the flags of effv2vk train]\nmpirun -n R effv2vk tune train [the flags of mpirun -n R effv2vk train]",
		Description: "Kernels are timed on their first use and the fastest is cached per device; tune does it ahead, so that the\n" +
			"commands after it time nothing. `effv2vk tune train` takes the same flags as `effv2vk train` and records\n" +
			"every graph that run records: each progressive stage's training step (its image size, regularization,\n" +
			"optimizer and EMA update) and evaluation, with a line per stage; run it with the flags of the training run\n" +
			"(it reads the dataset for its image size, channels and classes, and writes nothing to --out). For a run under\n" +
			"mpirun, tune under mpirun too: `mpirun -n R effv2vk tune train FLAGS` tunes what each rank of\n" +
			"`mpirun -n R effv2vk train FLAGS` records (--batch-size/R images per rank, the update after the all-reduce);\n" +
			"ranks sharing a device take turns (the first times, the others wait idle and read its choices from the\n" +
			"cache), ranks on different devices tune at once.\n" +
			"`effv2vk tune` alone tunes `effv2vk bench`'s graphs (the training step and the evaluation at --batch-size)\n" +
			"at each --image-size (a list such as 128,160,192 tunes each size); with --raw-size it also tunes a fixed-size\n" +
			"training run's graphs on uint8 images of that side at each size, without a dataset.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Value: "efficientnetv2-s"},
			&cli.IntFlag{Name: "classes", Value: 1000},
			&cli.IntFlag{Name: "batch-size", Value: 8},
			&cli.StringFlag{Name: "image-size", Value: "128", Usage: "image side, or a comma-separated list of sides (each is tuned)"},
			&cli.IntFlag{Name: "eval-batch-size", Usage: "with --raw-size, the batch of train's evaluation on raw images (effv2vk train evaluates in batches of 200; 0: --batch-size); bench's evaluation at --batch-size is tuned always"},
			&cli.IntFlag{Name: "raw-size", Usage: "side of the uint8 images a training run feeds (28 for Fashion-MNIST, 32 for CIFAR; an image folder's first training image): also tunes train's step and evaluation on them, with the EMA update (0: only bench's graphs)"},
			&cli.IntFlag{Name: "raw-channels", Value: 1, Usage: "channels of those images: 1 (gray) or 3 (RGB)"},
			&cli.StringFlag{Name: "optimizer", Value: "rmsprop", Usage: "the optimizer whose update is tuned too: " + strings.Join(optim.Names(), ", ")},
		},
		Subcommands: []*cli.Command{tuneTrainCommand()},
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return fmt.Errorf("tune: unexpected argument %q (`effv2vk tune train FLAGS` tunes a training run)", c.Args().First())
			}
			cfg, err := arch.Lookup(c.String("model"), c.Int("classes"))
			if err != nil {
				return err
			}
			sizes, err := parseSizes(c.String("image-size"))
			if err != nil {
				return err
			}
			tg := tuneTarget{model: c.String("model"), batch: c.Int("batch-size"), evalBatch: c.Int("eval-batch-size"), sizes: sizes, optimizer: c.String("optimizer")}
			if tg.evalBatch == 0 {
				tg.evalBatch = tg.batch
			}
			if tg.batch < 1 || tg.evalBatch < 1 {
				return fmt.Errorf("--batch-size and --eval-batch-size must be at least 1")
			}
			if raw, ch := c.Int("raw-size"), c.Int("raw-channels"); raw != 0 {
				if raw < 1 || (ch != 1 && ch != 3) {
					return fmt.Errorf("--raw-size %d --raw-channels %d: want a positive side and 1 (gray) or 3 (RGB) channels", raw, ch)
				}
				tg.raw = &train.DataShape{Classes: cfg.Classes, Side: raw, Channels: ch, TestChannels: ch}
			}
			if err := tuningOn(); err != nil {
				return err
			}
			return withDevice(c.String("device"), func(d *engine.Device) error {
				results, err := tuneDecisions(d, os.Stderr, func() error { return tuneModel(d, cfg, tg, os.Stderr) })
				if err != nil {
					return err
				}
				fmt.Printf("device: %s\nmodel: %s, batch %d (evaluation %d), sizes %s; cache: %s\n", d.Info.Name, cfg.Name, tg.batch, tg.evalBatch, sizesText(tg.sizes), d.TuneCachePath())
				writeTuneTable(os.Stdout, results)
				return nil
			})
		},
	}
}

// tuningOn returns an error unless the tuner is on.
func tuningOn() error {
	on, err := engine.TuningEnabled()
	if err != nil {
		return err
	}
	if !on {
		return fmt.Errorf("tuning is off (%s=%s): unset it or set it to on", engine.TuneEnv, os.Getenv(engine.TuneEnv))
	}
	return nil
}

// tuneTarget is what `effv2vk tune` records at each of sizes: the training
// step at batch with optimizer's update and the evaluation forward pass at
// batch, as `effv2vk bench` records them; with raw, also what a fixed-size
// `effv2vk train` run on images of that shape records (uint8 images
// prepared on the device, regularization, the EMA update, evaluation at
// evalBatch with the EMA weights swapped in).
type tuneTarget struct {
	model            string
	batch, evalBatch int
	sizes            []int
	optimizer        string
	raw              *train.DataShape
}

// fixedRun is the training run tg's raw graphs at size come from: train's
// defaults at one stage of size (the last stage's regularization).
func (tg tuneTarget) fixedRun(size int) train.Config {
	cfg := train.Defaults()
	cfg.Model, cfg.BatchSize, cfg.EvalBatch, cfg.Optimizer = tg.model, tg.batch, tg.evalBatch, tg.optimizer
	cfg.Progressive, cfg.Stages, cfg.Epochs, cfg.WarmupEpochs = false, 1, 1, 0
	cfg.MinSize, cfg.MaxSize = size, size
	return cfg
}

// tuneDecisions runs record, which records graphs on d (making every
// tunable operation in them ask the tuner: timing, or reading the cache),
// with a progress line on progress, and returns the tuner's decisions.
func tuneDecisions(d *engine.Device, progress io.Writer, record func() error) ([]engine.TuneResult, error) {
	n := 0
	d.OnTune(func(r engine.TuneResult) {
		n++
		fmt.Fprintf(progress, "\rtuning: %d operations (%s %s: %s)\033[K", n, r.Op, r.Shape, r.Source)
	})
	defer d.OnTune(nil)
	defer fmt.Fprintln(progress)
	if err := record(); err != nil {
		return nil, err
	}
	return d.TuneResults(), nil
}

// tuneModel records cfg's graphs for tg on d, each freed before the next,
// with a line per size on progress.
func tuneModel(d *engine.Device, cfg arch.Config, tg tuneTarget, progress io.Writer) error {
	for _, size := range tg.sizes {
		fmt.Fprintf(progress, "\r\033[Kimage size %d\n", size)
		if err := tuneBench(d, cfg, tg, size); err != nil {
			return err
		}
		if tg.raw != nil {
			if err := train.Tune(d, tg.fixedRun(size), tg.raw, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// tuneBench records `effv2vk bench`'s graphs at tg's batch and size, with
// tg's optimizer's update after the training step.
func tuneBench(d *engine.Device, cfg arch.Config, tg tuneTarget, size int) error {
	m, err := net.NewModel(d, cfg, 1)
	if err != nil {
		return err
	}
	defer m.Free()
	groups, err := optim.SplitDecay(d, m.Store.Params, m.Store.Grads, m.Store.DecayLen, 1e-5)
	if err != nil {
		return err
	}
	defer optim.FreeGroups(groups)
	opt, err := optim.New(tg.optimizer, d, groups, optim.DefaultConfig())
	if err != nil {
		return err
	}
	defer opt.Free()
	update := func(s *engine.Sequence) error { opt.Record(s); return s.Err() }
	for _, gr := range []struct {
		gc     net.GraphConfig
		update func(s *engine.Sequence) error
	}{{train.BenchStep(tg.batch, size), update}, {train.BenchForward(tg.batch, size), nil}} {
		g, err := m.Record(gr.gc, gr.update)
		if err != nil {
			return err
		}
		g.Free()
	}
	return nil
}

// parseSizes reads --image-size: one side or a comma-separated list.
func parseSizes(s string) ([]int, error) {
	var sizes []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("--image-size %q: want a positive side or a comma-separated list of them, e.g. 128 or 128,160,192", s)
		}
		sizes = append(sizes, n)
	}
	return sizes, nil
}

// sizesText writes sizes as "128x128" or "128x128, 160x160".
func sizesText(sizes []int) string {
	parts := make([]string, len(sizes))
	for i, n := range sizes {
		parts[i] = fmt.Sprintf("%dx%d", n, n)
	}
	return strings.Join(parts, ", ")
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
