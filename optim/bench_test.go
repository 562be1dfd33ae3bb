package optim_test

import (
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/optim"
)

// v2sParams is EfficientNetV2-S's parameter count (torchvision, 1000
// classes); the benchmarks update that many in two groups.
const v2sParams = 21_458_488

// benchGroups lays out n parameters and gradients as two groups, 98% of them
// weight-decayed.
func benchGroups(b *testing.B, d *engine.Device, n int) []optim.Group {
	b.Helper()
	params, err := d.NewTensor("params", engine.Float32, n)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(params.Free)
	grads, err := d.NewTensor("grads", engine.Float32, n)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(grads.Free)
	if err := params.Upload(make([]float32, n)); err != nil {
		b.Fatal(err)
	}
	if err := grads.Upload(make([]float32, n)); err != nil {
		b.Fatal(err)
	}
	groups, err := optim.SplitDecay(d, params, grads, n/50*49+3, 1e-5)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { optim.FreeGroups(groups) })
	return groups
}

// runBench replays seq b.N times and reports GB/s for bytes moved per run.
func runBench(b *testing.B, d *engine.Device, seq *engine.Sequence, bytes float64) {
	b.Helper()
	if err := d.Run(seq); err != nil { // warm up (kernel JIT)
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := d.Run(seq); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(bytes*float64(b.N)/b.Elapsed().Seconds()/1e9, "GB/s")
}

// BenchmarkOptimizers updates EfficientNetV2-S's parameters once per run.
// Bytes: every element's parameter, gradient and state read once and the
// parameter and state written once.
func BenchmarkOptimizers(b *testing.B) {
	d := enginetest.Open(b)
	groups := benchGroups(b, d, v2sParams)
	for _, c := range []struct {
		name  string
		slots int
	}{{"rmsprop", 2}, {"sgd", 1}, {"adamw", 2}} {
		b.Run(c.name, func(b *testing.B) {
			opt, err := optim.New(c.name, d, groups, optim.DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			defer opt.Free()
			if err := opt.SetStep(0, 1e-3); err != nil {
				b.Fatal(err)
			}
			seq, err := d.NewSequence(c.name, engine.SequenceOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer seq.Release()
			opt.Record(seq)
			runBench(b, d, seq, float64(v2sParams)*4*float64(3+2*c.slots))
		})
	}
}

// BenchmarkEMA averages EfficientNetV2-S's parameters once per run (bytes:
// live read, average read and written).
func BenchmarkEMA(b *testing.B) {
	d := enginetest.Open(b)
	params, err := d.NewTensor("params", engine.Float32, v2sParams)
	if err != nil {
		b.Fatal(err)
	}
	defer params.Free()
	if err := params.Upload(make([]float32, v2sParams)); err != nil {
		b.Fatal(err)
	}
	ema, err := optim.NewEMA(d, params, nil, 0.9999)
	if err != nil {
		b.Fatal(err)
	}
	defer ema.Free()
	seq, err := d.NewSequence("ema", engine.SequenceOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer seq.Release()
	ema.Record(seq)
	runBench(b, d, seq, float64(v2sParams)*4*3)
}
