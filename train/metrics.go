package train

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"
)

// TrainRecord is one training-step line of metrics.jsonl.
type TrainRecord struct {
	Kind      string  `json:"kind"` // "train"
	Time      string  `json:"time"`
	Step      int     `json:"step"`
	Epoch     float64 `json:"epoch"`
	Stage     int     `json:"stage"`
	ImageSize int     `json:"image_size"`
	LR        float64 `json:"lr"`
	Loss      float64 `json:"loss"`
	Top1      float64 `json:"top1"` // batch accuracy, 0..1
	ImgPerSec float64 `json:"img_per_s"`
	// ReduceMS is the step's gradient exchange between ranks (download,
	// all-reduce, averaging, upload) in milliseconds; absent in a
	// one-process run.
	ReduceMS float64 `json:"reduce_ms,omitempty"`
}

// EvalRecord is one evaluation line of metrics.jsonl.
type EvalRecord struct {
	Kind      string   `json:"kind"` // "eval"
	Time      string   `json:"time"`
	Step      int      `json:"step"`
	Epoch     float64  `json:"epoch"`
	Stage     int      `json:"stage"`
	ImageSize int      `json:"image_size"`
	Top1      float64  `json:"top1"`
	Top5      float64  `json:"top5"`
	EMATop1   *float64 `json:"ema_top1,omitempty"`
	EMATop5   *float64 `json:"ema_top5,omitempty"`
}

// metricsLog appends JSON lines to metrics.jsonl, one write per line so a
// crash leaves at most a partial last line (readers skip it).
type metricsLog struct{ f *os.File }

func openMetrics(path string, truncate bool) (*metricsLog, error) {
	flags := os.O_CREATE | os.O_WRONLY | os.O_APPEND
	if truncate {
		flags |= os.O_TRUNC
	}
	f, err := os.OpenFile(path, flags, 0o644)
	if err != nil {
		return nil, fmt.Errorf("train: metrics: %w", err)
	}
	return &metricsLog{f: f}, nil
}

// write appends rec; a nil log (ranks other than 0) writes nothing.
func (l *metricsLog) write(rec any) error {
	if l == nil {
		return nil
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	_, err = l.f.Write(append(b, '\n'))
	return err
}

func (l *metricsLog) close() error { return l.f.Close() }

// trimMetrics drops the records of metrics.jsonl past step, and a partial
// last line: a run killed after its last checkpoint logged steps that the
// resumed run does again, and each step must appear once.
func trimMetrics(path string, step int) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("train: metrics: %w", err)
	}
	var kept []byte
	for _, line := range bytes.SplitAfter(b, []byte("\n")) {
		var rec struct {
			Step *int `json:"step"`
		}
		if len(line) == 0 || line[len(line)-1] != '\n' || json.Unmarshal(line, &rec) != nil || rec.Step == nil || *rec.Step > step {
			continue
		}
		kept = append(kept, line...)
	}
	if len(kept) == len(b) {
		return nil
	}
	return writeFileAtomic(path, kept)
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }
