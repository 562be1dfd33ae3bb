package train

import (
	"fmt"
	"math"
	"sort"

	"github.com/effv2vk/effv2vk/data"
	"github.com/effv2vk/effv2vk/net"
)

// ClassScore is one class of a prediction and its probability.
type ClassScore struct {
	Class int
	Name  string
	Prob  float64
}

// Predict runs RGB images of any size through m (the checkpoint's model,
// weights loaded), each fitted as the run's own images were fed (see
// data.FitImage), and returns each image's k most probable classes, most
// probable first (softmax of the logits; ties keep class order).
func (c *Checkpoint) Predict(m *net.Model, imgs []data.Image, k int) ([][]ClassScore, error) {
	if len(imgs) == 0 {
		return nil, fmt.Errorf("train: predict: no images")
	}
	raw := c.Raw
	g, err := m.Record(net.GraphConfig{Batch: len(imgs), Size: c.ImageSize, Raw: &raw}, nil)
	if err != nil {
		return nil, err
	}
	defer g.Free()
	pix := make([]uint8, 0, g.Raw.Len())
	for i, img := range imgs {
		fit, err := data.FitImage(img, raw.H, raw.W, raw.C)
		if err != nil {
			return nil, fmt.Errorf("train: predict: image %d: %w", i+1, err)
		}
		pix = append(pix, fit.Pix...)
	}
	if err := g.Raw.Upload(pix); err != nil {
		return nil, err
	}
	if err := g.Run(); err != nil {
		return nil, err
	}
	logits, err := g.Logits.Floats()
	if err != nil {
		return nil, err
	}
	classes := g.Logits.Shape[1]
	out := make([][]ClassScore, len(imgs))
	for i := range imgs {
		out[i] = topClasses(Softmax(logits[i*classes:(i+1)*classes]), c.Classes, k)
	}
	return out, nil
}

// Softmax returns exp(v_i - max v) / sum_j exp(v_j - max v) in float64.
func Softmax(v []float32) []float64 {
	out := make([]float64, len(v))
	if len(v) == 0 {
		return out
	}
	m := v[0]
	for _, x := range v {
		m = max(m, x)
	}
	sum := 0.0
	for i, x := range v {
		out[i] = math.Exp(float64(x) - float64(m))
		sum += out[i]
	}
	for i := range out {
		out[i] /= sum
	}
	return out
}

// topClasses returns the k most probable classes, most probable first.
func topClasses(probs []float64, names []string, k int) []ClassScore {
	order := make([]int, len(probs))
	for j := range order {
		order[j] = j
	}
	sort.SliceStable(order, func(a, b int) bool { return probs[order[a]] > probs[order[b]] })
	out := make([]ClassScore, 0, min(k, len(order)))
	for _, j := range order[:min(k, len(order))] {
		name := fmt.Sprint(j)
		if j < len(names) {
			name = names[j]
		}
		out = append(out, ClassScore{Class: j, Name: name, Prob: probs[j]})
	}
	return out
}
