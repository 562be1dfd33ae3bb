package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"

	"github.com/effv2vk/effv2vk/data"
	"github.com/urfave/cli/v2"
)

// dataBench is the result of `effv2vk bench data`.
type dataBench struct {
	Data        string  `json:"data"`
	Files       int     `json:"files"`
	ImageSize   int     `json:"image_size"`
	BatchSize   int     `json:"batch_size"`
	Workers     int     `json:"workers"`
	RandAugment float64 `json:"randaugment_magnitude"` // 0: off; else 2 ops of this magnitude
	FullDecode  bool    `json:"full_size_decode"`
	GOMAXPROCS  int     `json:"gomaxprocs"`
	data.Throughput
}

func benchDataCommand() *cli.Command {
	return &cli.Command{
		Name:      "data",
		Usage:     "measure the input pipeline: JPEG/PNG files decoded, RandomResizedCrop + flip [+ RandAugment] into uint8 batches, img/s",
		UsageText: "effv2vk bench data --data DIR [--image-size S] [--randaugment M] [--workers W] [--batch-size B] [--epochs E] [--json]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "data", Required: true, Usage: "an ImageFolder: DIR/<class>/*.jpg|png (scripts/make_jpeg_folder.py writes one)"},
			&cli.IntFlag{Name: "image-size", Value: 224, Usage: "output side in pixels"},
			&cli.Float64Flag{Name: "randaugment", Usage: "RandAugment magnitude with 2 ops per image (0: off)"},
			&cli.IntFlag{Name: "workers", Value: 2, Usage: "loader goroutines"},
			&cli.IntFlag{Name: "batch-size", Value: 32},
			&cli.IntFlag{Name: "epochs", Value: 1, Usage: "passes over the folder"},
			&cli.BoolFlag{Name: "full-decode", Usage: "decode JPEGs at full size (default: at the smallest DCT scale, 1/2, 1/4 or 1/8, that keeps the shorter side >= --image-size)"},
			&cli.Uint64Flag{Name: "seed", Value: 1},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
		},
		Action: func(c *cli.Context) error {
			if c.Int("image-size") < 1 || c.Int("workers") < 1 || c.Int("batch-size") < 1 {
				return fmt.Errorf("bench data: --image-size %d, --workers %d, --batch-size %d: each must be at least 1",
					c.Int("image-size"), c.Int("workers"), c.Int("batch-size"))
			}
			ds, err := data.OpenImageFolder(c.String("data"))
			if err != nil {
				return fmt.Errorf("bench data: %w", err)
			}
			m := c.Float64("randaugment")
			aug := data.Augment{RandomResizedCrop: true, HorizontalFlip: true}
			if m > 0 {
				aug.RandAugmentN, aug.RandAugmentM = 2, m
			}
			opts := data.Options{BatchSize: c.Int("batch-size"), Shuffle: true, Seed: c.Uint64("seed"),
				Size: c.Int("image-size"), Augment: aug, Workers: c.Int("workers"), FullSizeDecode: c.Bool("full-decode")}
			t, err := data.MeasureThroughput(ds, opts, c.Int("epochs"))
			if err != nil {
				return fmt.Errorf("bench data: %w", err)
			}
			r := dataBench{Data: c.String("data"), Files: ds.Len(), ImageSize: opts.Size, BatchSize: opts.BatchSize,
				Workers: opts.Workers, RandAugment: m, FullDecode: opts.FullSizeDecode, GOMAXPROCS: runtime.GOMAXPROCS(0), Throughput: t}
			if c.Bool("json") {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(r)
			}
			fmt.Printf("%d images (%d files x %d passes) at %dpx, batch %d, %d workers, RandAugment %s: %.1f s, %.1f img/s\n",
				t.Images, r.Files, c.Int("epochs"), r.ImageSize, r.BatchSize, r.Workers, randAugmentLabel(m), t.Seconds, t.ImagesPerSec)
			return nil
		},
	}
}

// randAugmentLabel says "off" or "2 ops, magnitude M".
func randAugmentLabel(m float64) string {
	if m <= 0 {
		return "off"
	}
	return fmt.Sprintf("2 ops, magnitude %g", m)
}
