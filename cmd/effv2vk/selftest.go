package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
	"github.com/urfave/cli/v2"
)

func selftestCommand() *cli.Command {
	return &cli.Command{
		Name:  "selftest",
		Usage: "build every kernel and run a saxpy chain on the device, checked against Go",
		Action: func(c *cli.Context) error {
			return withDevice(c.String("device"), selftest)
		},
	}
}

// selftest builds every kernel on d and runs the saxpy chain.
func selftest(d *engine.Device) error {
	fmt.Printf("device: %s (%s)\n", d.Info.Name, d.Info.Type)
	start := time.Now()
	for _, name := range shaders.Names() {
		if _, err := d.Kernel(name); err != nil {
			return err
		}
	}
	fmt.Printf("built %d kernels in %v\n", len(shaders.Names()), time.Since(start).Round(time.Millisecond))
	return saxpyChain(d)
}

// saxpyChain runs 50 dependent saxpy dispatches on 1M floats and compares
// with the same arithmetic in Go.
func saxpyChain(d *engine.Device) error {
	const n, steps = 1 << 20, 50
	k, err := d.Kernel("saxpy_texel")
	if err != nil {
		return err
	}
	x, err := d.NewTensor("x", engine.Float32, n)
	if err != nil {
		return err
	}
	defer x.Free()
	y, err := d.NewTensor("y", engine.Float32, n)
	if err != nil {
		return err
	}
	defer y.Free()
	r := rand.New(rand.NewPCG(1, 1))
	xs, ys := make([]float32, n), make([]float32, n)
	for i := range xs {
		xs[i], ys[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
	}
	if err := x.Upload(xs); err != nil {
		return err
	}
	if err := y.Upload(ys); err != nil {
		return err
	}
	s, err := d.NewSequence("selftest", engine.SequenceOptions{})
	if err != nil {
		return err
	}
	defer s.Release()
	for i := 0; i < steps; i++ {
		s.Dispatch1D(k, n, shaders.SaxpyTexelPush{N: n, A: 0.01}, x, y)
	}
	start := time.Now()
	if err := d.Run(s); err != nil {
		return err
	}
	el := time.Since(start)
	got, err := y.Floats()
	if err != nil {
		return err
	}
	for i := range ys {
		want := ys[i]
		for j := 0; j < steps; j++ {
			want = 0.01*xs[i] + want
		}
		if got[i] != want {
			return fmt.Errorf("selftest: y[%d] = %v, want %v: the device computes wrong results", i, got[i], want)
		}
	}
	gb := float64(steps) * 3 * 4 * n / el.Seconds() / 1e9
	fmt.Printf("saxpy chain: %d dispatches over %d floats in %v (%.2f GB/s), results match Go exactly\n", steps, n, el.Round(time.Microsecond), gb)
	return nil
}
