package net_test

import (
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
)

// TestFrozenLayersGetNoBackward records pico's training step with the stem
// and stages 1-2 frozen, and with everything but the classifier frozen,
// gradients poisoned with NaN first: the frozen entries' gradients are
// never written (still NaN), every other one is finite and some are not
// zero, the frozen BN running statistics stay as they were while the others
// update, and the recordings have fewer dispatches the more is frozen.
func TestFrozenLayersGetNoBackward(t *testing.T) {
	d := enginetest.Open(t)
	m := newPicoModel(t, d, 7)
	const n, size = 4, 32
	x := randomImages(t, n, size)
	record := func(frozen int) *net.Graph {
		g, err := m.Record(net.GraphConfig{Batch: n, Size: size, Train: true, UpdateRunning: true, Backward: true, Frozen: frozen}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	last := -1
	for _, frozen := range []int{0, 3, net.MaxFrozen(m.Config)} {
		g := record(frozen)
		got := g.Seq.Dispatches()
		if last >= 0 && got >= last {
			t.Errorf("%d dispatches with %d modules frozen, %d with fewer: want fewer", got, frozen, last)
		}
		last = got
		if frozen > 0 {
			checkFrozenStep(t, m, g, frozen, x)
		}
		g.Free()
	}
	if _, err := m.Record(net.GraphConfig{Batch: n, Size: size, Train: true, Backward: true, Frozen: net.MaxFrozen(m.Config) + 1}, nil); err == nil {
		t.Error("freezing past the head conv: no error")
	}
	enginetest.Check(t, d)
}

// checkFrozenStep runs g once on x with the gradients poisoned and checks
// what the frozen modules' entries got.
func checkFrozenStep(t *testing.T, m *net.Model, g *net.Graph, frozen int, x []float32) {
	t.Helper()
	cfg := m.Config
	nan := make([]float32, m.Store.Grads.Len())
	for i := range nan {
		nan[i] = float32(math.NaN())
	}
	if err := m.Store.Grads.Upload(nan); err != nil {
		t.Fatal(err)
	}
	before, err := m.Store.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	if err := g.Input.Upload(x); err != nil {
		t.Fatal(err)
	}
	if err := g.Labels.Upload([]int32{1, 2, 3, 4}); err != nil {
		t.Fatal(err)
	}
	if err := g.Run(); err != nil {
		t.Fatal(err)
	}
	grads, err := m.Store.Gradients()
	if err != nil {
		t.Fatal(err)
	}
	after, err := m.Store.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	nonzero := 0
	for _, p := range cfg.Params() {
		isFrozen := net.IsFrozen(p.Name, frozen)
		if p.Trainable {
			for _, v := range grads[p.Name] {
				finite := !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
				if isFrozen && !math.IsNaN(float64(v)) {
					t.Fatalf("frozen %s got a gradient (%v)", p.Name, v)
				}
				if !isFrozen && !finite {
					t.Fatalf("trainable %s has gradient %v", p.Name, v)
				}
				if !isFrozen && v != 0 {
					nonzero++
				}
			}
			continue
		}
		if p.Role == arch.BNRunningMean {
			same := true
			for i := range after[p.Name] {
				same = same && math.Float32bits(after[p.Name][i]) == math.Float32bits(before[p.Name][i])
			}
			if same != isFrozen {
				t.Errorf("%s: unchanged %v, frozen %v: frozen statistics must stay, the others update", p.Name, same, isFrozen)
			}
		}
	}
	if nonzero == 0 {
		t.Error("every trainable gradient is zero")
	}
}
