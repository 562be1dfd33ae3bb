package ops

import (
	"fmt"
	"sort"
	"time"

	"github.com/effv2vk/effv2vk/engine"
)

// BenchUnit says what a benchmark's throughput counts.
type BenchUnit string

// Units of throughput.
const (
	GFLOPs BenchUnit = "GFLOP/s" // arithmetic-bound: 2 flops per multiply-add
	GBs    BenchUnit = "GB/s"    // memory-bound: bytes read + written once
)

// BenchCase is one kernel benchmark at an EfficientNetV2-S layer shape.
type BenchCase struct {
	Name  string // e.g. "conv3x3 fused 24->96 @64x64 fwd"
	Op    string // family, e.g. "conv2d"
	Shape string // human-readable shape
	Unit  BenchUnit
	// Work is the flops (GFLOPs) or bytes (GBs) of one run.
	Work float64
	// Setup allocates tensors with random contents and records the
	// operation into s; cleanup frees what Setup allocated.
	Setup func(d *engine.Device, s *engine.Sequence) (cleanup func(), err error)
}

var benchCases []BenchCase

// RegisterBench adds a benchmark case; bench_*.go files call it from init.
func RegisterBench(c BenchCase) { benchCases = append(benchCases, c) }

// BenchCases returns the registered cases, sorted by family then name.
func BenchCases() []BenchCase {
	out := append([]BenchCase(nil), benchCases...)
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Op != out[j].Op {
			return out[i].Op < out[j].Op
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// RandomTensor allocates a float32 tensor filled with deterministic
// pseudo-random values in [-1, 1), for benchmarks.
func RandomTensor(d *engine.Device, name string, seed uint64, shape ...int) (*engine.Tensor, error) {
	t, err := d.NewTensor(name, engine.Float32, shape...)
	if err != nil {
		return nil, err
	}
	v := make([]float32, t.Len())
	x := seed*2862933555777941757 + 3037000493
	for i := range v {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		v[i] = float32(x>>40)/float32(1<<24)*2 - 1
	}
	if err := t.Upload(v); err != nil {
		t.Free()
		return nil, fmt.Errorf("bench %s: %w", name, err)
	}
	return t, nil
}

// BenchResult is one timed BenchCase.
type BenchResult struct {
	Name       string    `json:"name"`
	Op         string    `json:"op"`
	Shape      string    `json:"shape"`
	Unit       string    `json:"unit"`
	MedianMs   float64   `json:"median_ms"`
	Throughput float64   `json:"throughput"` // GFLOP/s or GB/s at the median
	RunsMs     []float64 `json:"runs_ms"`
}

// BenchTiming is how RunBench times a case. The first replays of a
// sequence run slower than the rest on a CPU driver (on lavapipe, 2 cores:
// the stem's 1.1 ms data gradient took 2.0-2.8 ms for its first three or
// four replays after the warm-up replay), so a case is replayed untimed for
// WarmUp first, then timed for at least Runs replays and MinTime.
type BenchTiming struct {
	Runs    int           // timed replays, at least (1 or more)
	MinTime time.Duration // the least time of timed replays (0: Runs replays)
	WarmUp  time.Duration // untimed replays for at least this long (at least one)
}

// DefaultBenchTiming is `effv2vk bench ops`'s timing: 7 replays and 200 ms
// at least, after 100 ms of warm-up.
var DefaultBenchTiming = BenchTiming{Runs: 7, MinTime: 200 * time.Millisecond, WarmUp: 100 * time.Millisecond}

// benchMaxRuns bounds the timed replays that MinTime adds (a case stops at
// the larger of it and Runs): a kernel of a few microseconds would otherwise
// take tens of thousands.
const benchMaxRuns = 1000

// RunBench records bc once, replays it untimed for the warm-up (once at
// least), then times replays as bt says and reports their median.
func RunBench(d *engine.Device, bc BenchCase, bt BenchTiming) (BenchResult, error) {
	if bt.Runs < 1 {
		return BenchResult{}, fmt.Errorf("ops: bench %s: %d runs: need at least 1", bc.Name, bt.Runs)
	}
	if bt.MinTime < 0 || bt.WarmUp < 0 {
		return BenchResult{}, fmt.Errorf("ops: bench %s: negative time (min %v, warm-up %v)", bc.Name, bt.MinTime, bt.WarmUp)
	}
	s, err := d.NewSequence(bc.Name, engine.SequenceOptions{})
	if err != nil {
		return BenchResult{}, err
	}
	defer s.Release()
	cleanup, err := bc.Setup(d, s)
	if err != nil {
		return BenchResult{}, err
	}
	defer cleanup()
	if err := s.Finish(); err != nil {
		return BenchResult{}, err
	}
	for start := time.Now(); ; {
		if err := d.Run(s); err != nil {
			return BenchResult{}, err
		}
		if time.Since(start) >= bt.WarmUp {
			break
		}
	}
	var ms []float64
	var total time.Duration
	for len(ms) < bt.Runs || (total < bt.MinTime && len(ms) < max(bt.Runs, benchMaxRuns)) {
		start := time.Now()
		if err := d.Run(s); err != nil {
			return BenchResult{}, err
		}
		took := time.Since(start)
		total += took
		ms = append(ms, float64(took.Microseconds())/1000)
	}
	sorted := append([]float64(nil), ms...)
	sort.Float64s(sorted)
	med := sorted[len(sorted)/2]
	return BenchResult{Name: bc.Name, Op: bc.Op, Shape: bc.Shape, Unit: string(bc.Unit), MedianMs: med,
		Throughput: bc.Work / (med / 1000) / 1e9, RunsMs: ms}, nil
}
