package main

import (
	"fmt"

	"github.com/effv2vk/effv2vk/data"
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/train"
	"github.com/urfave/cli/v2"
)

var checkpointFlags = []cli.Flag{
	&cli.StringFlag{Name: "checkpoint", Value: "runs/latest", Usage: "checkpoint file, or a run directory (its best.safetensors, else newest checkpoint)"},
	&cli.BoolFlag{Name: "ema", Usage: "use the EMA weights"},
}

// openCheckpoint opens the checkpoint --checkpoint names and reads its
// (EMA, with --ema) weights, before any device is opened.
func openCheckpoint(c *cli.Context) (*train.Checkpoint, map[string][]float32, error) {
	ck, err := train.OpenCheckpoint(c.String("checkpoint"))
	if err != nil {
		return nil, nil, err
	}
	values, err := ck.Weights(c.Bool("ema"))
	if err != nil {
		return nil, nil, err
	}
	return ck, values, nil
}

// withModel opens the device (withDevice), puts the checkpoint's weights
// on it and runs fn with the model.
func withModel(c *cli.Context, ck *train.Checkpoint, values map[string][]float32, fn func(m *net.Model) error) error {
	return withDevice(c.String("device"), func(d *engine.Device) error {
		m, err := net.NewModel(d, ck.Model, 0)
		if err != nil {
			return err
		}
		defer m.Free()
		if err := m.Store.Load(values); err != nil {
			return err
		}
		return fn(m)
	})
}

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:  "eval",
		Usage: "top-1 / top-5 accuracy of a checkpoint on a dataset split",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "split", Value: "test", Usage: "test or train"},
			&cli.StringFlag{Name: "data", Usage: "dataset directory (default: the one the run used)"},
			&cli.IntFlag{Name: "batch-size", Value: 200},
		}, checkpointFlags...),
		Action: func(c *cli.Context) error {
			ck, values, err := openCheckpoint(c)
			if err != nil {
				return err
			}
			ds, err := ck.OpenDataset(c.String("data"), c.String("split"))
			if err != nil {
				return err
			}
			return withModel(c, ck, values, func(m *net.Model) error { return evaluate(c, ck, ds, m) })
		},
	}
}

// evaluate prints the top-1 and top-5 accuracy of model m on ds.
func evaluate(c *cli.Context, ck *train.Checkpoint, ds data.Dataset, m *net.Model) error {
	raw := ck.Raw
	g, err := m.Record(net.GraphConfig{Batch: c.Int("batch-size"), Size: ck.ImageSize, Raw: &raw}, nil)
	if err != nil {
		return err
	}
	defer g.Free()
	top1, top5, err := train.Evaluate(g, ds, 2)
	if err != nil {
		return err
	}
	which := "weights"
	if c.Bool("ema") {
		which = "EMA weights"
	}
	fmt.Printf("%s (%s, step %d, %s), %s split, %d images at %dpx: top-1 %.2f%%, top-5 %.2f%%\n",
		ck.Path, ck.Model.Name, ck.Step, which, c.String("split"), ds.Len(), ck.ImageSize, 100*top1, 100*top5)
	return nil
}

func predictCommand() *cli.Command {
	return &cli.Command{
		Name:      "predict",
		Usage:     "top-5 classes and probabilities of images (PNG or JPEG)",
		ArgsUsage: "IMAGE...",
		Flags:     checkpointFlags,
		Action: func(c *cli.Context) error {
			if c.NArg() == 0 {
				return fmt.Errorf("predict: name at least one image file")
			}
			// Decode first: a bad file is reported before the device opens.
			var imgs []data.Image
			for _, path := range c.Args().Slice() {
				img, err := data.ReadImageFile(path)
				if err != nil {
					return fmt.Errorf("predict: %w", err)
				}
				imgs = append(imgs, img)
			}
			ck, values, err := openCheckpoint(c)
			if err != nil {
				return err
			}
			return withModel(c, ck, values, func(m *net.Model) error { return predict(c, ck, imgs, m) })
		},
	}
}

// predict prints the top-5 classes of each image in imgs (the command's
// arguments, in order) under model m.
func predict(c *cli.Context, ck *train.Checkpoint, imgs []data.Image, m *net.Model) error {
	top, err := ck.Predict(m, imgs, 5)
	if err != nil {
		return err
	}
	for i, path := range c.Args().Slice() {
		fmt.Println(path)
		for _, cs := range top[i] {
			fmt.Printf("  %6.2f%%  %s\n", 100*cs.Prob, cs.Name)
		}
	}
	return nil
}

func exportCommand() *cli.Command {
	return &cli.Command{
		Name:  "export",
		Usage: "write a checkpoint's weights as safetensors with torchvision's state_dict names",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "output", Required: true, Usage: "safetensors file to write"},
		}, checkpointFlags...),
		Action: func(c *cli.Context) error {
			ck, err := train.OpenCheckpoint(c.String("checkpoint"))
			if err != nil {
				return err
			}
			values, err := ck.Weights(c.Bool("ema"))
			if err != nil {
				return err
			}
			tensors, err := net.StateDict(ck.Model.Params(), values)
			if err != nil {
				return err
			}
			if err := safetensorsWrite(c.String("output"), tensors, ck); err != nil {
				return err
			}
			fmt.Printf("wrote %s: %s with %d classes, %d tensors (torchvision names)\n", c.String("output"), ck.Model.Name, ck.Model.Classes, len(tensors))
			return nil
		},
	}
}
