package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/effv2vk/effv2vk/dist"
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/progressive"
	"github.com/effv2vk/effv2vk/train"
	"github.com/urfave/cli/v2"
)

// tuneTrainCommand returns `effv2vk tune train`: it takes `effv2vk train`'s
// flags and tunes every graph that training run records; under mpirun,
// what each rank of `mpirun -n R effv2vk train` with those flags records.
func tuneTrainCommand() *cli.Command {
	return &cli.Command{
		Name:  "train",
		Usage: "tune every graph a training run with the same flags records: each progressive stage's training step and evaluation, the EMA swap (under mpirun: each rank's)",
		UsageText: "effv2vk tune train [the flags of effv2vk train, e.g. --model efficientnetv2-s --dataset imagefolder --data DIR --epochs 30 --batch-size 32]\n" +
			"mpirun -n R effv2vk tune train [the same flags as `mpirun -n R effv2vk train`]",
		Flags: trainFlags(),
		Action: func(c *cli.Context) error {
			cfg := trainConfig(c)
			if err := tuningOn(); err != nil {
				return err
			}
			comm, err := dist.Join()
			if err != nil {
				return err
			}
			return withDevice(train.DeviceSelector(cfg, comm), func(d *engine.Device) error {
				return tuneTrainRank(d, cfg, comm)
			})
		},
	}
}

// tuneTrainRank tunes this rank's graphs of the run cfg describes on d
// (the whole run's in a single process) and prints what it decided: the
// table where this rank tuned its device, else one line naming the rank
// that did. Rank 0 alone shows progress.
func tuneTrainRank(d *engine.Device, cfg train.Config, comm *dist.Comm) error {
	progress := io.Writer(os.Stderr)
	if comm.Rank() != 0 {
		progress = io.Discard
	}
	var sizes []string
	tuner := comm.Rank()
	results, err := tuneDecisions(d, progress, func() (err error) {
		tuner, err = train.TuneRank(d, cfg, comm, nil, func(st progressive.Stage, sched progressive.Schedule) {
			sizes = append(sizes, fmt.Sprint(st.ImageSize))
			stageLine(progress, cfg.BatchSize/comm.Size(), cfg.EvalBatch, st, sched)
		})
		return err
	})
	if err != nil {
		return err
	}
	batch := fmt.Sprintf("batch %d", cfg.BatchSize)
	rank := ""
	if comm.Distributed() {
		batch = fmt.Sprintf("batch %d over %d ranks (%d each)", cfg.BatchSize, comm.Size(), cfg.BatchSize/comm.Size())
		rank = fmt.Sprintf("rank %d of %d: ", comm.Rank(), comm.Size())
	}
	if tuner != comm.Rank() {
		fmt.Printf("%sdevice %s, shared with rank %d, which tuned it (every rank records the same graphs); cache: %s\n",
			rank, d.Info.Name, tuner, d.TuneCachePath())
		return nil
	}
	fmt.Printf("%sdevice: %s\ntraining run: model %s, %s (evaluation %d), %d stage(s) at image sizes %s; cache: %s\n",
		rank, d.Info.Name, cfg.Model, batch, cfg.EvalBatch, len(sizes), strings.Join(sizes, ", "), d.TuneCachePath())
	writeTuneTable(os.Stdout, results)
	return nil
}

// stageLine prints which stage of the run tune records now, on a line of
// its own above the operations' progress line; batch is the training
// step's (under mpirun, the rank's share of --batch-size).
func stageLine(w io.Writer, batch, evalBatch int, st progressive.Stage, sched progressive.Schedule) {
	fmt.Fprintf(w, "\r\033[Kstage %d/%d: image size %d, dropout %.3f (training step at batch %d, evaluation at batch %d)\n",
		st.Index+1, len(sched.Stages), st.ImageSize, st.Dropout, batch, evalBatch)
}
