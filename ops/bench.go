package ops

import (
	"fmt"
	"sort"

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
