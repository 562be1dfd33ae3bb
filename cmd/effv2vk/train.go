package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/effv2vk/effv2vk/dist"
	"github.com/effv2vk/effv2vk/train"
	"github.com/effv2vk/effv2vk/viz"
	"github.com/urfave/cli/v2"
)

func trainCommand() *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "train a model (default: efficientnetv2-pico on Fashion-MNIST with progressive learning)",
		Flags: trainFlags(),
		Action: func(c *cli.Context) error {
			cfg := trainConfig(c)
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			if c.Bool("visualize") && !otherRank() {
				return trainWithWindow(ctx, cfg)
			}
			res, err := train.Run(ctx, cfg, os.Stderr)
			_, err = report(cfg, res, err)
			return err
		},
	}
}

// report prints how a training run ended (stdout) and returns the
// command's error and a one-line summary.
func report(cfg train.Config, res *train.Result, err error) (string, error) {
	if errors.Is(err, train.ErrInterrupted) {
		fmt.Fprintln(os.Stderr, err)
		return "interrupted; a checkpoint was written", cli.Exit("", 130)
	}
	if err != nil {
		return "stopped: " + err.Error(), err
	}
	if err := validationError(res.Validation); err != nil {
		return err.Error(), err // every rank checks its own device
	}
	if res.Rank != 0 {
		return "", nil // rank 0 reports for the job
	}
	if res.AlreadyDone {
		fmt.Printf("nothing to resume: the run in %s already finished all its steps (best test top-1 %.2f%%); `effv2vk eval --checkpoint %s` evaluates it, a new --out starts another\n",
			cfg.OutDir, 100*res.BestTop1, cfg.OutDir)
		return "the run had already finished", nil
	}
	line := fmt.Sprintf("trained %d steps in %.1fs: test top-1 %.2f%%, top-5 %.2f%%", res.Steps, res.Seconds, 100*res.FinalTop1, 100*res.FinalTop5)
	if cfg.EMADecay > 0 {
		line += fmt.Sprintf(", EMA top-1 %.2f%%", 100*res.FinalEMATop1)
	}
	line += fmt.Sprintf(" (best %.2f%%)", 100*res.BestTop1)
	fmt.Printf("%s; outputs in %s\n", line, cfg.OutDir)
	return line, nil
}

// otherRank reports whether this process is a rank other than 0 of an
// mpirun job (rank 0 alone opens the window).
func otherRank() bool {
	comm, err := dist.Join()
	return err == nil && comm.Rank() != 0
}

// trainWithWindow trains in a goroutine while the window runs on the main
// thread (GLFW's rule). When training ends its summary is printed at once
// and the window shows "finished" until it is closed; Ctrl-C or SIGTERM
// closes it. A window that fails or is closed is reported and training
// goes on.
func trainWithWindow(ctx context.Context, cfg train.Config) error {
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return err
	}
	finished := make(chan string, 1)
	done := make(chan error, 1)
	var windowOpen atomic.Bool
	windowOpen.Store(true)
	go func() {
		res, err := train.Run(ctx, cfg, os.Stderr)
		line, err := report(cfg, res, err)
		if ctx.Err() == nil && windowOpen.Load() {
			fmt.Fprintln(os.Stderr, "training finished; the window stays open: press q or Esc, or close it, to exit")
		}
		finished <- line
		done <- err
	}()
	if err := viz.Show(viz.Options{RunDir: cfg.OutDir, Device: cfg.Device, Finished: finished, Quit: ctx.Done()}); err != nil {
		fmt.Fprintf(os.Stderr, "visualize: %v (training goes on)\n", err)
	}
	windowOpen.Store(false)
	return <-done
}

// trainFlags are `effv2vk train`'s flags (`effv2vk tune train` takes them
// too, to tune what the same run records).
func trainFlags() []cli.Flag {
	def := train.Defaults()
	return []cli.Flag{
		&cli.StringFlag{Name: "model", Value: def.Model, Usage: "model name (see `effv2vk summary`)"},
		&cli.StringFlag{Name: "dataset", Value: def.Dataset, Usage: "fashion-mnist, imagefolder, cifar10 or cifar100"},
		&cli.StringFlag{Name: "data", Usage: "dataset directory (fashion-mnist default: /usr/share/datasets/fashion-mnist; imagefolder: DIR with train/ and val/)"},
		&cli.IntFlag{Name: "train-limit", Usage: "use only the first N training images (0: all)"},
		&cli.IntFlag{Name: "test-limit", Usage: "use only the first N test images (0: all)"},
		&cli.IntFlag{Name: "epochs", Value: def.Epochs},
		&cli.IntFlag{Name: "batch-size", Value: def.BatchSize},
		&cli.StringFlag{Name: "optimizer", Value: def.Optimizer, Usage: "rmsprop (TF-style, the paper's), sgd or adamw"},
		&cli.Float64Flag{Name: "lr", Value: def.LR, Usage: "peak learning rate (fine-tuning with --init: try about a tenth, e.g. 0.0004, and fewer warmup epochs)"},
		&cli.Float64Flag{Name: "warmup-epochs", Value: def.WarmupEpochs},
		&cli.StringFlag{Name: "lr-schedule", Value: def.LRSchedule, Usage: "exponential (x0.97 every 2.4 epochs) or cosine"},
		&cli.Float64Flag{Name: "weight-decay", Value: def.WeightDecay, Usage: "L2 on conv and classifier weights (not biases or BN)"},
		&cli.Float64Flag{Name: "label-smoothing", Value: def.LabelSmoothing},
		&cli.Float64Flag{Name: "ema-decay", Value: def.EMADecay, Usage: "EMA of the weights (0: off)"},
		&cli.Float64Flag{Name: "cutmix", Usage: "CutMix Beta alpha in every stage (0: off; with the stage's mixup on, one of the two per batch)"},
		&cli.BoolFlag{Name: "progressive", Value: def.Progressive, Usage: "progressive learning (--progressive=false: the last stage's size and regularization throughout)"},
		&cli.IntFlag{Name: "stages", Value: def.Stages},
		&cli.IntFlag{Name: "min-size", Usage: "first stage's image size (0: the model's preset)"},
		&cli.IntFlag{Name: "max-size", Usage: "last stage's image size (0: the model's preset)"},
		&cli.Uint64Flag{Name: "seed", Value: def.Seed},
		&cli.StringFlag{Name: "out", Value: def.OutDir, Usage: "output directory: metrics.jsonl, snapshot.json, checkpoints"},
		&cli.StringFlag{Name: "init", Usage: "fine-tune: start from `W.safetensors`, weights with torchvision's names (from effv2vk export, or torchvision's pretrained state_dict saved as safetensors: see README); a classifier for another class count is freshly initialized"},
		&cli.IntFlag{Name: "freeze", Usage: "keep the first layers fixed: `N` freezes torchvision's features.0 (the stem) .. features.N-1 (no gradients, batch norm on running statistics); the largest N leaves only the classifier to train"},
		&cli.IntFlag{Name: "checkpoint-every", Usage: "also write a checkpoint every `N` steps within an epoch (0: about every 10 minutes of training, measured on the first steps; -1: at epoch ends only)"},
		&cli.BoolFlag{Name: "resume", Usage: "continue from the newest checkpoint in --out"},
		&cli.BoolFlag{Name: "overwrite", Usage: "start a new run in an --out that holds another run, deleting its metrics and checkpoints"},
		&cli.IntFlag{Name: "keep", Value: def.KeepLast, Usage: "step checkpoints kept (besides best.safetensors)"},
		&cli.IntFlag{Name: "workers", Value: def.Workers, Usage: "data loader goroutines"},
		&cli.BoolFlag{Name: "skip-corrupt", Usage: "skip and count unreadable images instead of stopping"},
		&cli.BoolFlag{Name: "profile", Usage: "time every kernel (shown by `effv2vk visualize`)"},
		&cli.BoolFlag{Name: "sync-bn", Usage: "under mpirun: batch-norm statistics over the global batch, not each rank's slice (two host round trips per BN layer and step)"},
		&cli.BoolFlag{Name: "visualize", Usage: "also open the live training window (as `effv2vk visualize --run OUT`); closing it does not stop training"},
	}
}

// trainConfig is the training run the flags of trainFlags describe.
func trainConfig(c *cli.Context) train.Config {
	def := train.Defaults()
	return train.Config{
		Model: c.String("model"), Dataset: c.String("dataset"), DataDir: c.String("data"),
		TrainLimit: c.Int("train-limit"), TestLimit: c.Int("test-limit"),
		Epochs: c.Int("epochs"), BatchSize: c.Int("batch-size"),
		Optimizer: c.String("optimizer"), LR: c.Float64("lr"), WarmupEpochs: c.Float64("warmup-epochs"),
		LRSchedule: c.String("lr-schedule"), WeightDecay: c.Float64("weight-decay"),
		LabelSmoothing: c.Float64("label-smoothing"), EMADecay: c.Float64("ema-decay"), CutMixAlpha: c.Float64("cutmix"),
		Progressive: c.Bool("progressive"), Stages: c.Int("stages"), MinSize: c.Int("min-size"), MaxSize: c.Int("max-size"),
		Seed: c.Uint64("seed"), Device: c.String("device"), OutDir: c.String("out"), Resume: c.Bool("resume"), Overwrite: c.Bool("overwrite"),
		KeepLast: c.Int("keep"), Workers: c.Int("workers"), EvalBatch: def.EvalBatch, SnapshotEvery: def.SnapshotEvery,
		Profile: c.Bool("profile"), SkipCorrupt: c.Bool("skip-corrupt"), SyncBN: c.Bool("sync-bn"),
		Init: c.String("init"), Freeze: c.Int("freeze"), CheckpointEvery: c.Int("checkpoint-every"),
	}
}
