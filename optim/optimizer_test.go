package optim_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/optim"
)

// optimizerCase is one optimizer under test: how New builds it, its
// reference and its state's initial value per slot.
type optimizerCase struct {
	name    string // for New
	label   string
	cfg     optim.Config
	ref     refStep
	initial []float64 // per state slot
}

func optimizerCases() []optimizerCase {
	def := optim.DefaultConfig()
	nesterov := def
	nesterov.SGD = optim.SGDConfig{Momentum: 0.8, Nesterov: true}
	plain := def
	plain.SGD = optim.SGDConfig{Momentum: 0}
	return []optimizerCase{
		{"rmsprop", "rmsprop", def, refRMSProp(def.RMSProp), []float64{1, 0}},
		{"sgd", "sgd", def, refSGD(def.SGD), []float64{0}},
		{"SGD", "sgd-nesterov", nesterov, refSGD(nesterov.SGD), []float64{0}},
		{"sgd", "sgd-no-momentum", plain, refSGD(plain.SGD), []float64{0}},
		{"adamw", "adamw", def, refAdamW(def.AdamW), []float64{0, 0}},
	}
}

// flatModel is a parameter and gradient tensor laid out like net.Store: a
// weight-decayed group whose length is not a multiple of 4, a gap up to the
// device's slice alignment, and an exempt group.
type flatModel struct {
	params, grads *engine.Tensor
	groups        []optim.Group
	decayLen      int
	exemptAt      int
	total         int
}

func newFlatModel(t *testing.T, d *engine.Device, decayLen, exemptLen int, wd float32) *flatModel {
	t.Helper()
	align := d.OffsetAlignment() / 4
	m := &flatModel{decayLen: decayLen, exemptAt: (decayLen + align - 1) / align * align}
	m.total = m.exemptAt + exemptLen
	var err error
	if m.params, err = d.NewTensor("params", engine.Float32, m.total); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.params.Free)
	if m.grads, err = d.NewTensor("grads", engine.Float32, m.total); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.grads.Free)
	if m.groups, err = optim.SplitDecay(d, m.params, m.grads, decayLen, wd); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { optim.FreeGroups(m.groups) })
	if len(m.groups) != 2 || m.groups[0].Params.Len() != decayLen || m.groups[1].Params.Len() != exemptLen ||
		m.groups[0].WeightDecay != wd || m.groups[1].WeightDecay != 0 {
		t.Fatalf("SplitDecay(%d of %d) gave %d groups, want [%d with decay %v, %d without]", decayLen, m.total, len(m.groups), decayLen, wd, exemptLen)
	}
	return m
}

// ranges are the groups' element ranges in the flat tensors.
func (m *flatModel) ranges() [][2]int {
	return [][2]int{{0, m.decayLen}, {m.exemptAt, m.total}}
}

// TestOptimizersMatchReference runs 5 recorded-once steps of each optimizer
// over a weight-decayed and an exempt group with a learning rate that
// changes every step, comparing parameters and state with the float64
// reference after each step, and checks that the gap between the groups is
// never written (the tail handling) and that gradients past a group's end
// (NaN there) never leak in.
func TestOptimizersMatchReference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	lrs := []float64{0.1, 0.03, 0.2, 0.01, 0.15}
	const wd = 0.1
	for ci, c := range optimizerCases() {
		t.Run(c.label, func(t *testing.T) {
			decayLen := 4*(100+r.IntN(300)) + 1 + r.IntN(3) // never a multiple of 4, several vec4s per invocation
			exemptLen := 1 + r.IntN(70)
			if ci%2 == 0 {
				exemptLen = 1 + r.IntN(3) // a group shorter than one vec4
			}
			m := newFlatModel(t, d, decayLen, exemptLen, wd)
			t.Logf("groups of %d and %d elements, exempt group at %d", decayLen, exemptLen, m.exemptAt)

			params := normals(r, m.total)
			if err := m.params.Upload(params); err != nil {
				t.Fatal(err)
			}
			opt, err := optim.New(c.name, d, m.groups, c.cfg)
			if err != nil {
				t.Fatal(err)
			}
			defer opt.Free()
			state := opt.State()
			if len(state) != len(m.groups)*len(c.initial) {
				t.Fatalf("%d state tensors, want %d", len(state), len(m.groups)*len(c.initial))
			}
			// The reference: parameters and state per group.
			refP := make([][]float64, len(m.groups))
			refS := make([][][]float64, len(m.groups))
			for gi, rg := range m.ranges() {
				refP[gi] = widen(params[rg[0]:rg[1]])
				for _, v := range c.initial {
					s := make([]float64, rg[1]-rg[0])
					for i := range s {
						s[i] = v
					}
					refS[gi] = append(refS[gi], s)
				}
			}

			seq, err := d.NewSequence("optimizer "+c.label, engine.SequenceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer seq.Release()
			opt.Record(seq)
			if err := seq.Finish(); err != nil {
				t.Fatal(err)
			}

			for step, lr := range lrs {
				grads := normals(r, m.total)
				for i := m.decayLen; i < m.exemptAt; i++ {
					grads[i] = float32(math.NaN())
				}
				if err := m.grads.Upload(grads); err != nil {
					t.Fatal(err)
				}
				if err := opt.SetStep(step, lr); err != nil {
					t.Fatal(err)
				}
				if err := d.Run(seq); err != nil {
					t.Fatal(err)
				}
				got := download(t, m.params)
				for gi, rg := range m.ranges() {
					gwd := float64(m.groups[gi].WeightDecay)
					// A value that an update cancels to near zero carries the
					// float32 rounding of its operands: errors are measured
					// against the larger of the value before and after.
					before := maxAbs(refP[gi])
					beforeS := make([]float64, len(refS[gi]))
					for si, s := range refS[gi] {
						beforeS[si] = maxAbs(s)
					}
					c.ref(refP[gi], widen(grads[rg[0]:rg[1]]), refS[gi], gwd, lr, step)
					compareAtLeast(t, fmt.Sprintf("step %d group %d params", step, gi), got[rg[0]:rg[1]], refP[gi], 1e-5, before)
					for si, s := range refS[gi] {
						nt := state[gi*len(c.initial)+si]
						compareAtLeast(t, fmt.Sprintf("step %d %s", step, nt.Name), download(t, nt.Tensor), s, 1e-5, beforeS[si])
					}
				}
				sameBits(t, fmt.Sprintf("step %d gap between the groups", step), got[m.decayLen:m.exemptAt], params[m.decayLen:m.exemptAt])
			}
		})
	}
}

// TestStateNames checks the checkpoint names and lengths of each optimizer's
// state.
func TestStateNames(t *testing.T) {
	d := enginetest.Open(t)
	m := newFlatModel(t, d, 13, 6, 1e-5)
	want := map[string][]string{
		"rmsprop": {"rmsprop/group0/square_avg", "rmsprop/group0/momentum_buffer", "rmsprop/group1/square_avg", "rmsprop/group1/momentum_buffer"},
		"sgd":     {"sgd/group0/momentum_buffer", "sgd/group1/momentum_buffer"},
		"adamw":   {"adamw/group0/exp_avg", "adamw/group0/exp_avg_sq", "adamw/group1/exp_avg", "adamw/group1/exp_avg_sq"},
	}
	for _, name := range optim.Names() {
		opt, err := optim.New(name, d, m.groups, optim.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		if opt.Name() != name {
			t.Errorf("New(%q).Name() = %q", name, opt.Name())
		}
		state := opt.State()
		if len(state) != len(want[name]) {
			t.Fatalf("%s: %d state tensors, want %v", name, len(state), want[name])
		}
		for i, st := range state {
			wantLen := m.groups[i*len(m.groups)/len(state)].Params.Len()
			if st.Name != want[name][i] || st.Tensor.Len() != wantLen {
				t.Errorf("%s: state %d is %s of %d elements, want %s of %d", name, i, st.Name, st.Tensor.Len(), want[name][i], wantLen)
			}
		}
		opt.Free()
	}
}
