package optim_test

import (
	"bytes"
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/optim"
)

// optimLaunches are the names of the autotuned launches of the optim
// kernels (optim/tune.go); the test fails if the tuner does not know one.
var optimLaunches = []string{"texel_8x16", "texel_64x4", "texel_256x4", "storage_64x4", "storage_256x4"}

// TestEveryLaunchIsBitwiseTheDefault forces each launch the tuner may pick
// on every optimizer kernel and the EMA update and swap, and checks that 3
// steps give bitwise the parameters, state and averages of the built-in
// launch (which TestOptimizersMatchReference and TestEMAMatchesReference
// hold to the float64 reference): the tuner can never pick a wrong kernel.
// The groups are long enough that every launch runs several workgroups and
// neither length is a multiple of 4.
func TestEveryLaunchIsBitwiseTheDefault(t *testing.T) {
	const decayLen, exemptLen = 9001, 4099
	d := enginetest.Open(t)
	r := testRand(t)
	align := d.OffsetAlignment() / 4
	total := (decayLen+align-1)/align*align + exemptLen
	p0, g0 := normals(r, total), normals(r, total)
	var warnings bytes.Buffer
	defer engine.SetTuneWarnings(&warnings)()
	for _, name := range []string{"rmsprop", "sgd", "adamw"} {
		t.Setenv(engine.TuneForceEnv, "")
		want := runSplitCase(t, d, name, decayLen, exemptLen, p0, g0)
		wantSwap := runSwap(t, d, p0, g0)
		for _, l := range optimLaunches {
			t.Setenv(engine.TuneForceEnv, "optim_"+name+"="+l+",optim_ema="+l+",optim_ema_swap="+l)
			got := runSplitCase(t, d, name, decayLen, exemptLen, p0, g0)
			gotSwap := runSwap(t, d, p0, g0)
			if warnings.Len() > 0 {
				t.Fatalf("launch %s was not taken: %s", l, warnings.String())
			}
			for i := range want {
				identicalBits(t, name+" "+l, i, got[i], want[i])
			}
			for i := range wantSwap {
				identicalBits(t, "ema swap "+l, i, gotSwap[i], wantSwap[i])
			}
		}
	}
	forced := 0
	for _, res := range d.TuneResults() {
		if res.Source == "forced" {
			forced++
		}
	}
	if forced == 0 {
		t.Fatal("the tuner recorded no forced launch")
	}
}

// identicalBits fails t unless got and want (tensor i of a run) agree bit for
// bit.
func identicalBits(t *testing.T, what string, i int, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: tensor %d has %d elements, want %d", what, i, len(got), len(want))
	}
	for j := range want {
		if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
			t.Fatalf("%s: tensor %d element %d: %v, want %v (bitwise)", what, i, j, got[j], want[j])
		}
	}
}

// runSwap makes an EMA of a live tensor holding a, overwrites the live
// tensor with b, swaps, and returns the live tensor and the average after
// the swap.
func runSwap(t *testing.T, d *engine.Device, a, b []float32) [][]float32 {
	t.Helper()
	live := newTensor(t, d, "live", a)
	ema, err := optim.NewEMA(d, live, nil, 0.9)
	if err != nil {
		t.Fatal(err)
	}
	defer ema.Free()
	if err := live.Upload(b); err != nil {
		t.Fatal(err)
	}
	s, err := d.NewSequence("swap", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	ema.Swap(s)
	if err := d.Run(s); err != nil {
		t.Fatal(err)
	}
	p, err := live.Floats()
	if err != nil {
		t.Fatal(err)
	}
	e, err := ema.State()[0].Tensor.Floats()
	if err != nil {
		t.Fatal(err)
	}
	return [][]float32{p, e}
}
