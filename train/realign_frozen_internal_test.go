package train

import (
	"testing"

	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
)

// TestRealignFrozenRoundTrip moves the optimizer state of a --freeze 3 run
// of pico (its groups without the frozen prefix) from alignment 4 to 48
// and back: each trainable entry's values come back, and each region is as
// long as its group (from the first trainable entry to the group's end).
func TestRealignFrozenRoundTrip(t *testing.T) {
	cfg, err := arch.Lookup("efficientnetv2-pico", 10)
	if err != nil {
		t.Fatal(err)
	}
	const frozen = 3
	a, b := net.NewLayout(cfg, 4), net.NewLayout(cfg, 48)
	for _, name := range []string{"optim/rmsprop/group0/square_avg", "optim/rmsprop/group1/momentum_buffer"} {
		r, _ := regionOf(name)
		offs, n := frozenRegionEntries(cfg, a, r, frozen)
		groupStart, groupEnd := a.ParamsLen, a.DecayLen
		if r == regionExempt {
			groupEnd = a.ParamsLen
		}
		for _, p := range cfg.Params() {
			off, ok := a.Offsets[p.Name]
			inGroup := ok && p.Trainable && p.NoWeightDecay == (r == regionExempt)
			if inGroup && !net.IsFrozen(p.Name, frozen) {
				groupStart = min(groupStart, off)
			}
			if _, listed := offs[p.Name]; listed && net.IsFrozen(p.Name, frozen) {
				t.Fatalf("%s: frozen %s is in the state", name, p.Name)
			}
		}
		if n != groupEnd-groupStart || n <= 0 {
			t.Fatalf("%s: region of %d values, the group has %d", name, n, groupEnd-groupStart)
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(i + 1)
		}
		there, err := realignFrozen(cfg, name, v, a, b, frozen)
		if err != nil {
			t.Fatal(err)
		}
		back, err := realignFrozen(cfg, name, there, b, a, frozen)
		if err != nil {
			t.Fatal(err)
		}
		for pname, off := range offs {
			for _, p := range cfg.Params() {
				if p.Name != pname {
					continue
				}
				for i := off; i < off+p.Elements(); i++ {
					if back[i] != v[i] {
						t.Fatalf("%s: %s element %d is %v after the round trip, want %v", name, pname, i-off, back[i], v[i])
					}
				}
			}
		}
		if _, err := realignFrozen(cfg, name, v, a, b, 0); err == nil {
			t.Fatalf("%s: state of a frozen run realigned as an unfrozen one's: no error", name)
		}
	}
}
