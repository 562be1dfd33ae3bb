package engine

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/effv2vk/effv2vk/shaders"
)

// SelfTestResult is what Device.SelfTest measured.
type SelfTestResult struct {
	Kernels      int           // kernels built
	BuildTime    time.Duration // building them all
	Floats       int           // saxpy vector length
	Dispatches   int           // dependent saxpy dispatches in one sequence
	ChainTime    time.Duration // running the chain
	GBPerSecond  float64       // bytes read and written by the chain per second
	ExactMatches bool          // every result equals Go's float32 arithmetic
}

// SelfTest builds every kernel of the shader index, then runs a chain of
// dispatches dependent saxpy dispatches (y += 0.01 x) over floats floats and
// compares each result with the same float32 arithmetic in Go. A mismatch
// is an error naming the first wrong element.
func (d *Device) SelfTest(floats, dispatches int) (SelfTestResult, error) {
	res := SelfTestResult{Floats: floats, Dispatches: dispatches}
	if floats < 1 || dispatches < 1 {
		return res, fmt.Errorf("engine: selftest of %d floats and %d dispatches: both must be at least 1", floats, dispatches)
	}
	start := time.Now()
	for _, name := range shaders.Names() {
		if _, err := d.Kernel(name); err != nil {
			return res, err
		}
	}
	res.Kernels, res.BuildTime = len(shaders.Names()), time.Since(start)
	k, err := d.Kernel("saxpy_texel")
	if err != nil {
		return res, err
	}
	x, err := d.NewTensor("selftest.x", Float32, floats)
	if err != nil {
		return res, err
	}
	defer x.Free()
	y, err := d.NewTensor("selftest.y", Float32, floats)
	if err != nil {
		return res, err
	}
	defer y.Free()
	r := rand.New(rand.NewPCG(1, 1))
	xs, ys := make([]float32, floats), make([]float32, floats)
	for i := range xs {
		xs[i], ys[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	if err := x.Upload(xs); err != nil {
		return res, err
	}
	if err := y.Upload(ys); err != nil {
		return res, err
	}
	s, err := d.NewSequence("selftest", SequenceOptions{})
	if err != nil {
		return res, err
	}
	defer s.Release()
	const a = 0.01
	for range dispatches {
		s.Dispatch1D(k, floats, shaders.SaxpyTexelPush{N: uint32(floats), A: a}, x, y)
	}
	start = time.Now()
	if err := d.Run(s); err != nil {
		return res, err
	}
	res.ChainTime = time.Since(start)
	res.GBPerSecond = float64(dispatches) * 3 * 4 * float64(floats) / res.ChainTime.Seconds() / 1e9
	got, err := y.Floats()
	if err != nil {
		return res, err
	}
	for i := range ys {
		want := ys[i]
		for range dispatches {
			want = a*xs[i] + want
		}
		if got[i] != want {
			return res, fmt.Errorf("engine: selftest: y[%d] = %v, want %v: the device computes wrong results", i, got[i], want)
		}
	}
	res.ExactMatches = true
	return res, nil
}
