package main

import (
	"fmt"
	"image"
	_ "image/jpeg" // decoders for predict
	_ "image/png"
	"math"
	"os"
	"sort"

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
				img, err := decodeImage(path)
				if err != nil {
					return err
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
	raw := ck.Raw
	g, err := m.Record(net.GraphConfig{Batch: len(imgs), Size: ck.ImageSize, Raw: &raw}, nil)
	if err != nil {
		return err
	}
	defer g.Free()
	pix := make([]uint8, 0, g.Raw.Len())
	for _, img := range imgs {
		pix = append(pix, fitImage(img, raw.H, raw.W, raw.C).Pix...)
	}
	if err := g.Raw.Upload(pix); err != nil {
		return err
	}
	if err := g.Run(); err != nil {
		return err
	}
	logits, err := g.Logits.Floats()
	if err != nil {
		return err
	}
	k := len(ck.Classes)
	for i, path := range c.Args().Slice() {
		fmt.Println(path)
		probs := softmax(logits[i*k : (i+1)*k])
		order := make([]int, k)
		for j := range order {
			order[j] = j
		}
		sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
		for _, j := range order[:min(5, k)] {
			fmt.Printf("  %6.2f%%  %s\n", 100*probs[j], ck.Classes[j])
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

// decodeImage reads a PNG or JPEG file as an 8-bit image, RGB or gray.
func decodeImage(path string) (data.Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return data.Image{}, fmt.Errorf("predict: %w", err)
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		return data.Image{}, fmt.Errorf("predict: %s is not a readable PNG or JPEG image: %v", path, err)
	}
	b := src.Bounds()
	img := data.NewImage(b.Dy(), b.Dx(), 3)
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			r, g, bl, _ := src.At(b.Min.X+x, b.Min.Y+y).RGBA()
			i := 3 * (y*b.Dx() + x)
			img.Pix[i], img.Pix[i+1], img.Pix[i+2] = uint8(r>>8), uint8(g>>8), uint8(bl>>8)
		}
	}
	return img, nil
}

// fitImage converts img to c channels (gray: the luma) and h x w (shorter
// side resized, then center-cropped), as the model's dataset images are.
func fitImage(img data.Image, h, w, c int) data.Image {
	if img.H != h || img.W != w {
		img = data.ResizeShorterCenterCrop(img, max(h, w))
	}
	if c == 3 {
		return img
	}
	gray := data.NewImage(img.H, img.W, 1)
	for i := range gray.Pix {
		r, g, b := float64(img.Pix[3*i]), float64(img.Pix[3*i+1]), float64(img.Pix[3*i+2])
		gray.Pix[i] = uint8(0.299*r + 0.587*g + 0.114*b + 0.5)
	}
	return gray
}

func softmax(v []float32) []float64 {
	out := make([]float64, len(v))
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	sum := 0.0
	for i, x := range v {
		out[i] = math.Exp(float64(x - m))
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}
