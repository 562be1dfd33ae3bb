package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/progressive"
	"github.com/effv2vk/effv2vk/train"
	"github.com/urfave/cli/v2"
)

// tuneTrainCommand returns `effv2vk tune train`: it takes `effv2vk train`'s
// flags and tunes every graph that training run records.
func tuneTrainCommand() *cli.Command {
	return &cli.Command{
		Name:      "train",
		Usage:     "tune every graph a training run with the same flags records: each progressive stage's training step and evaluation, the EMA swap",
		UsageText: "effv2vk tune train [the flags of effv2vk train, e.g. --model efficientnetv2-s --dataset imagefolder --data DIR --epochs 30 --batch-size 32]",
		Flags:     trainFlags(),
		Action: func(c *cli.Context) error {
			cfg := trainConfig(c)
			if err := tuningOn(); err != nil {
				return err
			}
			return withDevice(cfg.Device, func(d *engine.Device) error {
				var sizes []string
				results, err := tuneDecisions(d, os.Stderr, func() error {
					return train.Tune(d, cfg, nil, func(st progressive.Stage, sched progressive.Schedule) {
						sizes = append(sizes, fmt.Sprint(st.ImageSize))
						stageLine(os.Stderr, cfg, st, sched)
					})
				})
				if err != nil {
					return err
				}
				fmt.Printf("device: %s\ntraining run: model %s, batch %d (evaluation %d), %d stage(s) at image sizes %s; cache: %s\n",
					d.Info.Name, cfg.Model, cfg.BatchSize, cfg.EvalBatch, len(sizes), strings.Join(sizes, ", "), d.TuneCachePath())
				writeTuneTable(os.Stdout, results)
				return nil
			})
		},
	}
}

// stageLine prints which stage of the run tune records now, on a line of
// its own above the operations' progress line.
func stageLine(w io.Writer, cfg train.Config, st progressive.Stage, sched progressive.Schedule) {
	fmt.Fprintf(w, "\r\033[Kstage %d/%d: image size %d, dropout %.3f (training step at batch %d, evaluation at batch %d)\n",
		st.Index+1, len(sched.Stages), st.ImageSize, st.Dropout, cfg.BatchSize, cfg.EvalBatch)
}
