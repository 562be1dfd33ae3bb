package net_test

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/optim"
)

// trainPicoSteps trains efficientnetv2-pico for a few RMSProp steps with an
// EMA on d and returns the bits of every loss, of the final parameters and of
// the EMA's averages.
func trainPicoSteps(t *testing.T, d *engine.Device) []uint32 {
	t.Helper()
	cfg, err := arch.Lookup("efficientnetv2-pico", 10)
	if err != nil {
		t.Fatal(err)
	}
	m, err := net.NewModel(d, cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Free()
	if lim := d.Info.MaxStorageBufferRange; lim < 1<<20 && m.Store.Params.Bytes() <= lim {
		t.Fatalf("parameters %s fit the forced binding limit %d: nothing is split", m.Store.Params, lim)
	}
	groups, err := optim.SplitDecay(d, m.Store.Params, m.Store.Grads, m.Store.DecayLen, 1e-4)
	if err != nil {
		t.Fatal(err)
	}
	defer optim.FreeGroups(groups)
	opt, err := optim.New("rmsprop", d, groups, optim.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Free()
	ema, err := optim.NewEMA(d, m.Store.Params, m.Store.Stats, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	defer ema.Free()
	const batch, size = 2, 16
	g, err := m.Record(net.GraphConfig{Batch: batch, Size: size, Train: true, UpdateRunning: true, Backward: true, Regularize: true},
		func(s *engine.Sequence) error { opt.Record(s); ema.Record(s); return s.Err() })
	if err != nil {
		t.Fatal(err)
	}
	defer g.Free()
	r := rand.New(rand.NewPCG(11, 12))
	var bits []uint32
	for step := 0; step < 3; step++ {
		x := make([]float32, batch*3*size*size)
		for i := range x {
			x[i] = float32(r.NormFloat64())
		}
		if err := g.Input.Upload(x); err != nil {
			t.Fatal(err)
		}
		if err := g.Labels.Upload([]int32{int32(step), int32(step + 5)}); err != nil {
			t.Fatal(err)
		}
		if err := g.SetRNG(99, uint32(step)); err != nil {
			t.Fatal(err)
		}
		if err := opt.SetStep(step, 0.01); err != nil {
			t.Fatal(err)
		}
		if err := g.Run(); err != nil {
			t.Fatal(err)
		}
		loss, err := g.Loss.Floats()
		if err != nil {
			t.Fatal(err)
		}
		bits = append(bits, math.Float32bits(loss[0]))
	}
	for _, x := range append([]*engine.Tensor{m.Store.Params, m.Store.Stats}, ema.State()[0].Tensor) {
		v, err := x.Floats()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range v {
			bits = append(bits, math.Float32bits(f))
		}
	}
	return bits
}

// TestSwitchesAreBitwise trains efficientnetv2-pico a few steps on the
// device as it is, then with every switch that makes lavapipe behave like a
// discrete GPU (tensors reached through staging buffers, a 128 KiB binding
// limit that splits the parameter, gradient, optimizer and EMA tensors,
// AMD's 4-byte offset alignment): no reduction order changes, so losses,
// parameters, statistics and averages must be bitwise equal.
//
// EFFV2VK_FORCE_STAGING=bar runs the same with small tensors (up to 64 KiB)
// left in mapped device-local memory, as on a discrete GPU with a BAR
// window.
func TestSwitchesAreBitwise(t *testing.T) {
	want := trainPicoSteps(t, enginetest.Open(t))
	for _, staging := range []string{"1", "bar"} {
		t.Run("staging="+staging, func(t *testing.T) { checkSwitchesBitwise(t, staging, want) })
	}
}

func checkSwitchesBitwise(t *testing.T, staging string, want []uint32) {
	t.Setenv("EFFV2VK_FORCE_STAGING", staging)
	t.Setenv("EFFV2VK_MAX_STORAGE_RANGE", "131072")
	t.Setenv("EFFV2VK_OFFSET_ALIGNMENT", "4")
	d := enginetest.Open(t)
	if d.TensorsMapped() || d.Info.MaxStorageBufferRange != 131072 {
		t.Fatalf("switches not in effect: mapped %v, maxStorageBufferRange %d", d.TensorsMapped(), d.Info.MaxStorageBufferRange)
	}
	got := trainPicoSteps(t, d)
	if len(got) != len(want) {
		t.Fatalf("%d values under the switches, %d without", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("value %d (the first 3 are losses): %v under the switches, %v without",
				i, math.Float32frombits(got[i]), math.Float32frombits(want[i]))
		}
	}
}
