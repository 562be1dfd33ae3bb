package optim_test

import (
	"math"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/optim"
)

// wantError fails t unless err mentions every one of parts.
func wantError(t *testing.T, what string, err error, parts ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error, want one mentioning %q", what, parts)
		return
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("%s: error %q does not mention %q", what, err, p)
		}
	}
}

func TestOptimizerErrors(t *testing.T) {
	d := enginetest.Open(t)
	p := newTensor(t, d, "p", make([]float32, 10))
	g := newTensor(t, d, "g", make([]float32, 9))
	g10 := newTensor(t, d, "g10", make([]float32, 10))
	ok := []optim.Group{{Params: p, Grads: g10}}
	def := optim.DefaultConfig()

	_, err := optim.New("adam", d, ok, def)
	wantError(t, "unknown name", err, `unknown optimizer "adam"`, "rmsprop, sgd, adamw")
	for _, name := range optim.Names() {
		_, err = optim.New(name, d, []optim.Group{{Params: p, Grads: g10}, {Params: p, Grads: g}}, def)
		wantError(t, name+" with mismatched group lengths", err, "group 1", "10 elements", "9")
		_, err = optim.New(name, d, nil, def)
		wantError(t, name+" without groups", err, "no parameter groups")
		_, err = optim.New(name, d, []optim.Group{{Params: p}}, def)
		wantError(t, name+" with a nil gradient", err, "group 0", "nil")
		_, err = optim.New(name, d, []optim.Group{{Params: p, Grads: g10, WeightDecay: -1}}, def)
		wantError(t, name+" with a negative weight decay", err, "weight decay -1")
	}
	u8, err := d.NewTensor("bytes", engine.Uint8, 10)
	if err != nil {
		t.Fatal(err)
	}
	defer u8.Free()
	_, err = optim.New("sgd", d, []optim.Group{{Params: p, Grads: u8}}, def)
	wantError(t, "uint8 gradients", err, "float32")

	bad := def
	bad.RMSProp.Rho = 1
	_, err = optim.New("rmsprop", d, ok, bad)
	wantError(t, "rho 1", err, "rho 1", "[0, 1)")
	bad = def
	bad.RMSProp.Eps = 0
	_, err = optim.New("rmsprop", d, ok, bad)
	wantError(t, "eps 0", err, "eps 0")
	bad = def
	bad.SGD = optim.SGDConfig{Nesterov: true}
	_, err = optim.New("sgd", d, ok, bad)
	wantError(t, "Nesterov without momentum", err, "Nesterov")
	bad = def
	bad.AdamW.Beta2 = math.NaN()
	_, err = optim.New("adamw", d, ok, bad)
	wantError(t, "beta2 NaN", err, "beta2")

	opt, err := optim.New("adamw", d, ok, def)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Free()
	wantError(t, "negative step", opt.SetStep(-1, 0.1), "step -1")
	wantError(t, "NaN learning rate", opt.SetStep(3, math.NaN()), "learning rate NaN at step 3")
	wantError(t, "negative learning rate", opt.SetStep(3, -0.1), "learning rate -0.1")
	if err := opt.SetStep(3, 0.1); err != nil {
		t.Errorf("SetStep(3, 0.1): %v", err)
	}
}

func TestSplitDecayAndEMAErrors(t *testing.T) {
	d := enginetest.Open(t)
	p := newTensor(t, d, "p", make([]float32, 10))
	g := newTensor(t, d, "g", make([]float32, 9))
	g10 := newTensor(t, d, "g10", make([]float32, 10))
	_, err := optim.SplitDecay(d, p, g, 4, 0.1)
	wantError(t, "SplitDecay with unequal tensors", err, "10 elements", "9")
	_, err = optim.SplitDecay(d, p, g10, 11, 0.1)
	wantError(t, "SplitDecay past the end", err, "decay length 11")

	// Everything decayed, or nothing: one group.
	for _, decayLen := range []int{0, 10} {
		groups, err := optim.SplitDecay(d, p, g10, decayLen, 0.1)
		if err != nil {
			t.Fatal(err)
		}
		if len(groups) != 1 || groups[0].Params.Len() != 10 {
			t.Errorf("SplitDecay(decayLen %d of 10) gave %d groups, want one of 10", decayLen, len(groups))
		}
		optim.FreeGroups(groups)
	}

	_, err = optim.NewEMA(d, p, nil, 1)
	wantError(t, "EMA decay 1", err, "decay 1")
	_, err = optim.NewEMA(d, nil, nil, 0.9)
	wantError(t, "EMA of nothing", err, "nil")
	ema, err := optim.NewEMA(d, p, nil, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	defer ema.Free()
	wantError(t, "EMA negative step", ema.SetStep(-2), "step -2")
}

// TestUseAfterFree: a freed optimizer or EMA reports errors instead of
// touching released memory.
func TestUseAfterFree(t *testing.T) {
	d := enginetest.Open(t)
	p := newTensor(t, d, "p", make([]float32, 10))
	g := newTensor(t, d, "g", make([]float32, 10))
	opt, err := optim.New("rmsprop", d, []optim.Group{{Params: p, Grads: g}}, optim.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	opt.Free()
	opt.Free() // twice is harmless
	wantError(t, "SetStep after Free", opt.SetStep(0, 0.1), "after Free")
	ema, err := optim.NewEMA(d, p, nil, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	ema.Free()
	wantError(t, "EMA SetStep after Free", ema.SetStep(0), "after Free")
	wantError(t, "EMA Reset after Free", ema.Reset(), "after Free")
	for what, record := range map[string]func(*engine.Sequence){"Record": opt.Record, "EMA Record": ema.Record, "EMA Swap": ema.Swap} {
		s, err := d.NewSequence(what, engine.SequenceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		record(s)
		wantError(t, what+" after Free", s.Finish(), "after Free")
		s.Release()
	}
}
