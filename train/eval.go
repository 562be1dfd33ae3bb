package train

import (
	"errors"
	"fmt"
	"io"

	"github.com/effv2vk/effv2vk/data"
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
)

// evalGraph records the forward pass in eval mode at the evaluation size
// (the current stage's: a model is evaluated at the size it trains at, the
// last stage's size at the end), once per size.
func (r *run) evalGraph() (*net.Graph, error) {
	if r.evalG != nil && r.evalG.Config.Size == r.evalSize {
		return r.evalG, nil
	}
	if r.evalG != nil {
		r.evalG.Free()
		r.evalG = nil
	}
	h, w := r.raw, r.raw
	g, err := r.model.Record(net.GraphConfig{
		Batch: r.cfg.EvalBatch, Size: r.evalSize,
		Raw: &net.RawInput{H: h, W: w, C: r.testChannels, Mean: r.mean, Std: r.std},
	}, nil)
	if err != nil {
		return nil, err
	}
	r.evalG = g
	return g, nil
}

// evaluate returns top-1 and top-5 accuracy on the whole test split, with
// the EMA weights when ema is true.
func (r *run) evaluate(ema bool) (float64, float64, error) {
	g, err := r.evalGraph()
	if err != nil {
		return 0, 0, err
	}
	if ema {
		if err := r.recordEMASwap(); err != nil {
			return 0, 0, err
		}
		if err := r.dev.Run(r.emaSwap); err != nil {
			return 0, 0, err
		}
		defer func() {
			// The exchange is its own inverse: run it again to restore.
			if err := r.dev.Run(r.emaSwap); err != nil {
				r.warn("restoring weights after EMA evaluation: %v", err)
			}
		}()
	}
	return r.evaluateShard(g)
}

// recordEMASwap records, once, the sequence that exchanges the live
// weights and the EMA averages.
func (r *run) recordEMASwap() error {
	if r.emaSwap != nil {
		return nil
	}
	s, err := r.dev.NewSequence("ema swap", engine.SequenceOptions{})
	if err != nil {
		return err
	}
	r.ema.Swap(s)
	if err := s.Finish(); err != nil {
		s.Release()
		return err
	}
	r.emaSwap = s
	return nil
}

// Evaluate runs an eval-mode graph with raw input over every image of ds
// and returns top-1 and top-5 accuracy. A last partial batch is padded with
// zero images whose predictions are ignored.
func Evaluate(g *net.Graph, ds data.Dataset, workers int) (float64, float64, error) {
	top1, top5, total, err := evaluateCounts(g, ds, workers)
	if err != nil {
		return 0, 0, err
	}
	if total == 0 {
		return 0, 0, fmt.Errorf("train: evaluation set is empty")
	}
	return float64(top1) / float64(total), float64(top5) / float64(total), nil
}

// evaluateCounts returns how many images of ds have their label first and
// among the first five, and how many there are.
func evaluateCounts(g *net.Graph, ds data.Dataset, workers int) (top1, top5, total int, err error) {
	n := g.Config.Batch
	h := g.Config.Raw.H
	loader, err := data.NewLoader(ds, data.Options{BatchSize: n, Workers: max(workers, 1), Prefetch: 2, Size: h})
	if err != nil {
		return 0, 0, 0, err
	}
	defer loader.Close()
	classes := g.Logits.Shape[1]
	logits := make([]float32, n*classes)
	images := make([]uint8, int(g.Raw.Len()))
	for {
		b, err := loader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, 0, 0, err
		}
		clear(images)
		if len(b.Images) > len(images) {
			loader.Release(b)
			return 0, 0, 0, fmt.Errorf("train: eval batch of %d bytes does not fit the graph's %d", len(b.Images), len(images))
		}
		copy(images, b.Images)
		labels := append([]int32(nil), b.Labels...)
		loader.Release(b)
		if err := g.Raw.Upload(images); err != nil {
			return 0, 0, 0, err
		}
		if err := g.Run(); err != nil {
			return 0, 0, 0, err
		}
		if err := g.Logits.Download(logits); err != nil {
			return 0, 0, 0, err
		}
		for i, label := range labels {
			row := logits[i*classes : (i+1)*classes]
			rank := 0 // classes with a strictly larger logit than the label's
			for _, v := range row {
				if v > row[label] {
					rank++
				}
			}
			if rank < 1 {
				top1++
			}
			if rank < 5 {
				top5++
			}
			total++
		}
	}
	return top1, top5, total, nil
}
