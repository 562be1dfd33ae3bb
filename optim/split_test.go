package optim_test

import (
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/optim"
)

// runSplitCase runs 3 steps of optimizer name and an EMA over a flat model of
// decayLen + exemptLen elements on d, from params p0 and gradients g0, and
// returns the parameters and every state tensor after them.
func runSplitCase(t *testing.T, d *engine.Device, name string, decayLen, exemptLen int, p0, g0 []float32) [][]float32 {
	t.Helper()
	m := newFlatModel(t, d, decayLen, exemptLen, 0.01)
	if err := m.params.Upload(p0); err != nil {
		t.Fatal(err)
	}
	if err := m.grads.Upload(g0); err != nil {
		t.Fatal(err)
	}
	o, err := optim.New(name, d, m.groups, optim.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer o.Free()
	ema, err := optim.NewEMA(d, m.params, nil, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	defer ema.Free()
	s, err := d.NewSequence("split", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	o.Record(s)
	ema.Record(s)
	for step := 0; step < 3; step++ {
		if err := o.SetStep(step, 0.01*float64(step+1)); err != nil {
			t.Fatal(err)
		}
		if err := d.Run(s); err != nil {
			t.Fatal(err)
		}
	}
	var out [][]float32
	p, _ := m.params.Floats()
	out = append(out, p)
	for _, st := range append(o.State(), ema.State()...) {
		v, err := st.Tensor.Floats()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

// TestSplitUpdateIsBitwise: with the binding limit forced to 64 KiB, groups
// of ~200 KiB are updated in several dispatches (one per binding range), and
// the parameters, optimizer state and EMA are bitwise those of the update
// that binds each group whole.
func TestSplitUpdateIsBitwise(t *testing.T) {
	const decayLen, exemptLen = 50001, 40003
	r := testRand(t)
	whole := enginetest.Open(t)
	align := whole.OffsetAlignment() / 4
	total := (decayLen+align-1)/align*align + exemptLen
	p0, g0 := normals(r, total), normals(r, total)
	t.Setenv("EFFV2VK_MAX_STORAGE_RANGE", "65536")
	split := enginetest.Open(t)
	if split.MaxBindingElements(engine.Float32) >= exemptLen {
		t.Fatalf("the forced limit (%d elements) does not split the groups", split.MaxBindingElements(engine.Float32))
	}
	for _, name := range []string{"rmsprop", "adamw"} {
		want := runSplitCase(t, whole, name, decayLen, exemptLen, p0, g0)
		got := runSplitCase(t, split, name, decayLen, exemptLen, p0, g0)
		for i := range want {
			for j := range want[i] {
				if math.Float32bits(got[i][j]) != math.Float32bits(want[i][j]) {
					t.Fatalf("%s: tensor %d element %d: split %v, whole %v", name, i, j, got[i][j], want[i][j])
				}
			}
		}
	}
}
