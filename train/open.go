package train

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/effv2vk/effv2vk/data"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/safetensors"
)

// Checkpoint is a training checkpoint opened for use outside training
// (eval, predict, export).
type Checkpoint struct {
	Path    string
	Config  Config      // the run's settings
	Model   arch.Config // the architecture, with the run's class count
	Classes []string    // class names, by label
	Step    int
	Epoch   int
	// ImageSize is the size the model is evaluated at; Raw the uint8
	// images it takes (height, width, channels, normalization).
	ImageSize int
	Raw       net.RawInput

	file *safetensors.File
	meta checkpointMeta
}

// OpenCheckpoint reads a checkpoint file, or the best (else newest)
// checkpoint of a run directory.
func OpenCheckpoint(path string) (*Checkpoint, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		best := filepath.Join(path, "best.safetensors")
		if _, err := os.Stat(best); err == nil {
			path = best
		} else {
			latest, err := latestCheckpoint(path, func(string, ...any) {})
			if err != nil {
				return nil, err
			}
			if latest == "" {
				return nil, fmt.Errorf("train: no checkpoint in %s: train first (`effv2vk train --out %s`)", path, path)
			}
			path = latest
		}
	}
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w", path, err)
	}
	meta, err := readCheckpointMeta(f, path)
	if err != nil {
		return nil, err
	}
	mc, err := arch.Lookup(meta.Model, len(meta.Classes))
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: %w", path, err)
	}
	mean, std := normalization(meta.Config.Dataset)
	return &Checkpoint{Path: path, Config: meta.Config, Model: mc, Classes: meta.Classes, Step: meta.Position.Step,
		Epoch: meta.Position.Epoch, ImageSize: meta.ImageSize,
		Raw:  net.RawInput{H: meta.RawH, W: meta.RawW, C: meta.RawC, Mean: mean, Std: std},
		file: f, meta: meta}, nil
}

// Weights returns the checkpoint's weights by torchvision name; with ema,
// the EMA averages of the parameters and BN statistics instead (an error
// when the run kept no EMA).
func (c *Checkpoint) Weights(ema bool) (map[string][]float32, error) {
	values, err := modelValues(c.file, c.Path, c.Model)
	if err != nil {
		return nil, err
	}
	if !ema {
		return values, nil
	}
	params, err := c.file.Float32s("ema/params")
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint %s holds no EMA weights (trained with --ema-decay 0?)", c.Path)
	}
	stats, err := c.file.Float32s("ema/stats")
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint %s holds no EMA statistics", c.Path)
	}
	avg, err := net.NewLayout(c.Model, c.meta.Align).Unflatten(c.Model, params, stats)
	if err != nil {
		return nil, fmt.Errorf("train: checkpoint %s: EMA state: %w", c.Path, err)
	}
	for k, v := range avg {
		values[k] = v
	}
	return values, nil
}

// OpenDataset opens split ("train" or "test") of the checkpoint's dataset,
// from dir when not empty (else the directory the run used).
func (c *Checkpoint) OpenDataset(dir, split string) (data.Dataset, error) {
	cfg := c.Config
	if dir != "" {
		cfg.DataDir = dir
	}
	cfg.TrainLimit, cfg.TestLimit = 0, 0
	tr, te, err := openDatasets(cfg)
	if err != nil {
		return nil, err
	}
	switch split {
	case "train":
		return tr, nil
	case "test", "val":
		return te, nil
	}
	return nil, fmt.Errorf("train: split %q: want train or test", split)
}
