package main

import (
	"fmt"
	"strings"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/safetensors"
	"github.com/urfave/cli/v2"
)

func inferCommand() *cli.Command {
	return &cli.Command{
		Name:  "infer",
		Usage: "run a model on a safetensors input (the interop door): logits, and in train mode with labels the loss and every gradient",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Required: true},
			&cli.IntFlag{Name: "classes", Value: 1000},
			&cli.StringFlag{Name: "weights", Required: true, Usage: "safetensors state_dict with torchvision names"},
			&cli.StringFlag{Name: "input", Required: true, Usage: `safetensors file with "input" float32 [N,3,H,W]`},
			&cli.StringFlag{Name: "output", Required: true, Usage: `safetensors file to write: "logits", and "loss" and "grad/<name>" with --labels in train mode`},
			&cli.StringFlag{Name: "mode", Value: "eval", Usage: "eval (running BN statistics) or train (batch statistics; dropout and drop path off)"},
			&cli.StringFlag{Name: "labels", Usage: `safetensors file with "labels" int64 [N] (train mode): also writes the loss and gradients`},
		},
		Action: func(c *cli.Context) error {
			mode := c.String("mode")
			if mode != "eval" && mode != "train" {
				return fmt.Errorf("--mode %q: want eval or train", mode)
			}
			if c.String("labels") != "" && mode != "train" {
				return fmt.Errorf("--labels needs --mode train (gradients are taken with batch statistics)")
			}
			cfg, err := arch.Lookup(c.String("model"), c.Int("classes"))
			if err != nil {
				return err
			}
			values, err := net.ReadStateDict(c.String("weights"), cfg)
			if err != nil {
				return err
			}
			x, shape, err := readInput(c.String("input"))
			if err != nil {
				return err
			}
			var labels []int32
			if path := c.String("labels"); path != "" {
				if labels, err = readLabels(path, shape[0], cfg.Classes); err != nil {
					return err
				}
			}
			return withDevice(c.String("device"), func(d *engine.Device) error {
				return infer(d, cfg, values, x, shape, labels, mode, c.String("output"))
			})
		},
	}
}

// infer runs the model cfg with values on input x (shape [N,3,S,S]) and
// writes the logits (and with labels the loss and every gradient) to
// output.
func infer(d *engine.Device, cfg arch.Config, values map[string][]float32, x []float32, shape []int, labels []int32, mode, output string) error {
	if err := net.PlanState(d, cfg, 0, false).Check(d, "inference"); err != nil {
		return err
	}
	m, err := net.NewModel(d, cfg, 0)
	if err != nil {
		return err
	}
	defer m.Free()
	if err := m.Store.Load(values); err != nil {
		return err
	}
	gc := net.GraphConfig{Batch: shape[0], Size: shape[2], Train: mode == "train", Backward: labels != nil}
	g, err := m.Record(gc, nil)
	if err != nil {
		return err
	}
	defer g.Free()
	if err := g.Input.Upload(x); err != nil {
		return err
	}
	if labels != nil {
		if err := g.Labels.Upload(labels); err != nil {
			return err
		}
	}
	if err := g.Run(); err != nil {
		return err
	}
	out := map[string]safetensors.Tensor{}
	logits, err := g.Logits.Floats()
	if err != nil {
		return err
	}
	if out["logits"], err = safetensors.Float32Tensor([]int{shape[0], cfg.Classes}, logits); err != nil {
		return err
	}
	if labels != nil {
		loss, err := g.Loss.Floats()
		if err != nil {
			return err
		}
		if out["loss"], err = safetensors.Float32Tensor([]int{1}, loss); err != nil {
			return err
		}
		grads, err := m.Store.Gradients()
		if err != nil {
			return err
		}
		for _, p := range cfg.Params() {
			if g, ok := grads[p.Name]; ok {
				if out["grad/"+p.Name], err = safetensors.Float32Tensor(p.Shape, g); err != nil {
					return err
				}
			}
		}
	}
	return safetensors.WriteFile(output, out, map[string]string{"model": cfg.Name, "mode": mode})
}

// readInput reads "input" float32 [N,3,H,W] with H == W.
func readInput(path string) ([]float32, []int, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--input: %w", err)
	}
	t, err := f.Tensor("input")
	if err != nil {
		return nil, nil, fmt.Errorf("--input %s: no tensor \"input\" (has %s)", path, strings.Join(f.Names(), ", "))
	}
	if len(t.Shape) != 4 || t.Shape[1] != 3 || t.Shape[2] != t.Shape[3] || t.Shape[0] < 1 {
		return nil, nil, fmt.Errorf("--input %s: \"input\" has shape %v, want [N,3,S,S]", path, t.Shape)
	}
	x, err := t.Float32s()
	if err != nil {
		return nil, nil, fmt.Errorf("--input %s: %w", path, err)
	}
	return x, t.Shape, nil
}

// readLabels reads "labels" int64 [n].
func readLabels(path string, n, classes int) ([]int32, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, fmt.Errorf("--labels: %w", err)
	}
	t, err := f.Tensor("labels")
	if err != nil {
		return nil, fmt.Errorf("--labels %s: no tensor \"labels\"", path)
	}
	if len(t.Shape) != 1 || t.Shape[0] != n {
		return nil, fmt.Errorf("--labels %s: shape %v, want [%d]", path, t.Shape, n)
	}
	v, err := t.Int64s()
	if err != nil {
		return nil, fmt.Errorf("--labels %s: %w", path, err)
	}
	out := make([]int32, n)
	for i, l := range v {
		if l < 0 || l >= int64(classes) {
			return nil, fmt.Errorf("--labels %s: label %d of image %d is outside [0, %d): check --classes", path, l, i, classes)
		}
		out[i] = int32(l)
	}
	return out, nil
}
