package train

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"io"
	"math"
	"path/filepath"

	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/progressive"
)

// Snapshot is snapshot.json: what `effv2vk visualize` shows besides the
// curves.
type Snapshot struct {
	Step        int           `json:"step"`
	Stage       int           `json:"stage"`
	ImageSize   int           `json:"image_size"`
	Classes     []string      `json:"classes"`
	Samples     []Sample      `json:"samples"`
	FeatureMaps []FeatureMap  `json:"feature_maps"`
	KernelTimes []KernelTimes `json:"kernel_times"`
}

// Sample is one recent training input with its label and prediction.
type Sample struct {
	H      int    `json:"h"`
	W      int    `json:"w"`
	C      int    `json:"c"`
	Pixels string `json:"pixels"` // base64 of uint8 HWC
	Label  int    `json:"label"`
	Pred   int    `json:"pred"`
}

// FeatureMap is one layer's activation of the first image.
type FeatureMap struct {
	Layer string `json:"layer"`
	C     int    `json:"c"`
	H     int    `json:"h"`
	W     int    `json:"w"`
	Data  string `json:"data"` // base64 of float32 little-endian CHW
}

// KernelTimes is one kernel's accumulated GPU time.
type KernelTimes struct {
	Name    string  `json:"name"`
	Count   int     `json:"count"`
	TotalMs float64 `json:"total_ms"`
}

const snapshotSamples = 16

// snapshot writes snapshot.json from the training graph's last step; a
// failure is reported and training goes on.
func (r *run) snapshot(g *net.Graph, stage progressive.Stage) {
	if err := r.writeSnapshot(g, stage); err != nil {
		r.warn("snapshot: %v", err)
	}
}

func (r *run) writeSnapshot(g *net.Graph, stage progressive.Stage) error {
	n := g.Config.Batch
	raw := g.Config.Raw
	pix := make([]uint8, g.Raw.Len())
	if err := g.Raw.Download(pix); err != nil {
		return err
	}
	classes := g.Logits.Shape[1]
	logits := make([]float32, n*classes)
	if err := g.Logits.Download(logits); err != nil {
		return err
	}
	var labels []int32
	if g.Labels != nil {
		labels = make([]int32, n)
		if err := g.Labels.Download(labels); err != nil {
			return err
		}
	} else {
		t := make([]float32, n*classes)
		if err := g.Targets.Download(t); err != nil {
			return err
		}
		labels = make([]int32, n)
		for i := range labels {
			labels[i] = int32(argmax(t[i*classes : (i+1)*classes]))
		}
	}
	snap := Snapshot{Step: r.pos.Step, Stage: stage.Index, ImageSize: stage.ImageSize, Classes: r.trainDS.ClassNames()}
	per := raw.H * raw.W * raw.C
	for i := 0; i < n && i < snapshotSamples; i++ {
		snap.Samples = append(snap.Samples, Sample{H: raw.H, W: raw.W, C: raw.C,
			Pixels: base64.StdEncoding.EncodeToString(pix[i*per : (i+1)*per]),
			Label:  int(labels[i]), Pred: argmax(logits[i*classes : (i+1)*classes])})
	}
	for _, fm := range g.FeatureMaps() {
		c, h, w := fm.Shape[1], fm.Shape[2], fm.Shape[3]
		all := make([]float32, fm.Len())
		if err := fm.Download(all); err != nil {
			return err
		}
		b := make([]byte, 4*c*h*w)
		for i, v := range all[:c*h*w] {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		snap.FeatureMaps = append(snap.FeatureMaps, FeatureMap{Layer: fm.Name, C: c, H: h, W: w, Data: base64.StdEncoding.EncodeToString(b)})
	}
	for _, k := range g.Seq.Profile() {
		snap.KernelTimes = append(snap.KernelTimes, KernelTimes{Name: k.Name, Count: k.Count, TotalMs: float64(k.Total.Microseconds()) / 1000})
	}
	return writeJSONAtomic(filepath.Join(r.cfg.OutDir, "snapshot.json"), snap)
}

func argmax(v []float32) int {
	best := 0
	for i := range v {
		if v[i] > v[best] {
			best = i
		}
	}
	return best
}

// writeJSONAtomic writes v as JSON to path through a temp file and rename,
// so readers never see a partial file.
func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, b)
}

// writeFileAtomic replaces path with b through a temporary file in the same
// directory and a rename: a crash leaves the old file or the new one.
func writeFileAtomic(path string, b []byte) error {
	return writeAtomic(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}
