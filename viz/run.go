package viz

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"time"
)

// File names inside a run directory.
const (
	MetricsFile  = "metrics.jsonl"
	SnapshotFile = "snapshot.json"
)

// TrainPoint is one "train" line of metrics.jsonl.
type TrainPoint struct {
	Time      time.Time `json:"time"`
	Step      int       `json:"step"`
	Epoch     float64   `json:"epoch"`
	Stage     int       `json:"stage"`
	ImageSize int       `json:"image_size"`
	LR        float64   `json:"lr"`
	Loss      float64   `json:"loss"`
	Top1      float64   `json:"top1"`
	ImgPerS   float64   `json:"img_per_s"`
}

// EvalPoint is one "eval" line of metrics.jsonl. EMATop1 and EMATop5 are NaN
// when the line has none.
type EvalPoint struct {
	Time      time.Time
	Step      int
	Epoch     float64
	Stage     int
	ImageSize int
	Top1      float64
	Top5      float64
	EMATop1   float64
	EMATop5   float64
}

// Sample is one training input of the snapshot: 8-bit pixels, HWC.
type Sample struct {
	H, W, C int
	Pixels  []byte
	Label   int
	Pred    int
}

// FeatureMap is the activation of one layer for the first image, CHW.
type FeatureMap struct {
	Layer   string
	C, H, W int
	Data    []float32
}

// KernelTime is the GPU time of one kernel, summed over its dispatches.
type KernelTime struct {
	Name    string  `json:"name"`
	Count   int     `json:"count"`
	TotalMs float64 `json:"total_ms"`
}

// Snapshot is snapshot.json, decoded.
type Snapshot struct {
	Step        int
	Stage       int
	ImageSize   int
	Classes     []string
	Samples     []Sample
	FeatureMaps []FeatureMap
	KernelTimes []KernelTime
}

// Run is what a run directory holds at one moment.
type Run struct {
	Dir      string
	Train    []TrainPoint
	Eval     []EvalPoint
	Snapshot *Snapshot // nil until the first snapshot is written
	// Skipped counts metric lines that could not be parsed (a partly
	// written last line, usually).
	Skipped int
}

// Empty reports whether the run has nothing to show yet.
func (r *Run) Empty() bool { return len(r.Train) == 0 && len(r.Eval) == 0 && r.Snapshot == nil }

// Stages returns, for each stage seen in the training metrics, its first
// step and image size, in order.
func (r *Run) Stages() []StageMark {
	var out []StageMark
	for _, p := range r.Train {
		if len(out) == 0 || out[len(out)-1].Stage != p.Stage {
			out = append(out, StageMark{Stage: p.Stage, Step: p.Step, ImageSize: p.ImageSize})
		}
	}
	return out
}

// StageMark is where a progressive stage starts.
type StageMark struct {
	Stage     int
	Step      int
	ImageSize int
}

// ErrNoRun says the run directory does not exist.
var ErrNoRun = errors.New("viz: run directory not found")

// ReadRun reads the run directory dir. Missing files are not errors (a run
// that just started has none yet); a missing directory is (ErrNoRun).
func ReadRun(dir string) (*Run, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w: %s does not exist (pass the training run's output directory with --run)", ErrNoRun, dir)
		}
		return nil, fmt.Errorf("viz: run directory %s: %v", dir, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%w: %s is a file, not a run directory", ErrNoRun, dir)
	}
	r := &Run{Dir: dir}
	if b, err := os.ReadFile(filepath.Join(dir, MetricsFile)); err == nil {
		r.parseMetrics(b)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("viz: reading %s: %v", filepath.Join(dir, MetricsFile), err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, SnapshotFile)); err == nil {
		snap, err := ParseSnapshot(b)
		if err != nil {
			return nil, fmt.Errorf("viz: %s: %w", filepath.Join(dir, SnapshotFile), err)
		}
		r.Snapshot = snap
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("viz: reading %s: %v", filepath.Join(dir, SnapshotFile), err)
	}
	return r, nil
}

// metricLine is the union of train and eval lines.
type metricLine struct {
	Kind      string    `json:"kind"`
	Time      time.Time `json:"time"`
	Step      int       `json:"step"`
	Epoch     float64   `json:"epoch"`
	Stage     int       `json:"stage"`
	ImageSize int       `json:"image_size"`
	LR        float64   `json:"lr"`
	Loss      float64   `json:"loss"`
	Top1      float64   `json:"top1"`
	Top5      float64   `json:"top5"`
	ImgPerS   float64   `json:"img_per_s"`
	EMATop1   *float64  `json:"ema_top1"`
	EMATop5   *float64  `json:"ema_top5"`
}

// parseMetrics appends every parsable line; bad lines are counted, not
// fatal, since the trainer may be writing the last one.
func (r *Run) parseMetrics(b []byte) {
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var m metricLine
		if err := json.Unmarshal(line, &m); err != nil {
			r.Skipped++
			continue
		}
		switch m.Kind {
		case "train":
			r.Train = append(r.Train, TrainPoint{Time: m.Time, Step: m.Step, Epoch: m.Epoch, Stage: m.Stage,
				ImageSize: m.ImageSize, LR: m.LR, Loss: m.Loss, Top1: m.Top1, ImgPerS: m.ImgPerS})
		case "eval":
			e := EvalPoint{Time: m.Time, Step: m.Step, Epoch: m.Epoch, Stage: m.Stage, ImageSize: m.ImageSize,
				Top1: m.Top1, Top5: m.Top5, EMATop1: math.NaN(), EMATop5: math.NaN()}
			if m.EMATop1 != nil {
				e.EMATop1 = *m.EMATop1
			}
			if m.EMATop5 != nil {
				e.EMATop5 = *m.EMATop5
			}
			r.Eval = append(r.Eval, e)
		default:
			r.Skipped++
		}
	}
}

// snapshotJSON is snapshot.json as written by the trainer.
type snapshotJSON struct {
	Step      int      `json:"step"`
	Stage     int      `json:"stage"`
	ImageSize int      `json:"image_size"`
	Classes   []string `json:"classes"`
	Samples   []struct {
		H      int    `json:"h"`
		W      int    `json:"w"`
		C      int    `json:"c"`
		Pixels string `json:"pixels"`
		Label  int    `json:"label"`
		Pred   int    `json:"pred"`
	} `json:"samples"`
	FeatureMaps []struct {
		Layer string `json:"layer"`
		C     int    `json:"c"`
		H     int    `json:"h"`
		W     int    `json:"w"`
		Data  string `json:"data"`
	} `json:"feature_maps"`
	KernelTimes []KernelTime `json:"kernel_times"`
}

// maxSnapshotElems bounds one image or feature map (guards against a
// corrupt header asking for gigabytes).
const maxSnapshotElems = 64 << 20

// ParseSnapshot decodes snapshot.json, checking every image's and feature
// map's size against its declared shape.
func ParseSnapshot(b []byte) (*Snapshot, error) {
	var j snapshotJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, fmt.Errorf("not a snapshot (%v)", err)
	}
	s := &Snapshot{Step: j.Step, Stage: j.Stage, ImageSize: j.ImageSize, Classes: j.Classes, KernelTimes: j.KernelTimes}
	for i, in := range j.Samples {
		n := in.H * in.W * in.C
		if in.H <= 0 || in.W <= 0 || (in.C != 1 && in.C != 3) || n > maxSnapshotElems {
			return nil, fmt.Errorf("sample %d: shape %dx%dx%d is not HxWx1 or HxWx3", i, in.H, in.W, in.C)
		}
		px, err := base64.StdEncoding.DecodeString(in.Pixels)
		if err != nil || len(px) != n {
			return nil, fmt.Errorf("sample %d: pixels are %d bytes of base64 (err %v), want %d", i, len(px), err, n)
		}
		s.Samples = append(s.Samples, Sample{H: in.H, W: in.W, C: in.C, Pixels: px, Label: in.Label, Pred: in.Pred})
	}
	for i, in := range j.FeatureMaps {
		n := in.C * in.H * in.W
		if in.C <= 0 || in.H <= 0 || in.W <= 0 || n > maxSnapshotElems {
			return nil, fmt.Errorf("feature map %d (%s): bad shape %dx%dx%d", i, in.Layer, in.C, in.H, in.W)
		}
		raw, err := base64.StdEncoding.DecodeString(in.Data)
		if err != nil || len(raw) != 4*n {
			return nil, fmt.Errorf("feature map %d (%s): data is %d bytes (err %v), want %d float32", i, in.Layer, len(raw), err, n)
		}
		data := make([]float32, n)
		for k := range data {
			data[k] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*k:]))
		}
		s.FeatureMaps = append(s.FeatureMaps, FeatureMap{Layer: in.Layer, C: in.C, H: in.H, W: in.W, Data: data})
	}
	return s, nil
}

// ClassName returns the name of class i, or its number when unknown.
func (s *Snapshot) ClassName(i int) string {
	if s != nil && i >= 0 && i < len(s.Classes) {
		return s.Classes[i]
	}
	return fmt.Sprint(i)
}
