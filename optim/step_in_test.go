package optim_test

import (
	"fmt"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/optim"
)

// TestSetStepInWritesWhatSetStepWrites: the values a pipelined loop writes
// ahead into a host tensor (SetStepIn) are those SetStep writes into the
// update's own step tensor, for every optimizer and the EMA; bad steps
// are refused the same way.
func TestSetStepInWritesWhatSetStepWrites(t *testing.T) {
	d := enginetest.Open(t)
	p := newTensor(t, d, "p", make([]float32, 10))
	g := newTensor(t, d, "g", make([]float32, 10))
	hostLike := func(like *engine.Tensor) *engine.Tensor {
		h, err := d.NewHostTensor("next step", like.DType, like.Shape...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(h.Free)
		return h
	}
	for _, name := range optim.Names() {
		o, err := optim.New(name, d, []optim.Group{{Params: p, Grads: g}}, optim.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		next := hostLike(o.StepTensor())
		for _, step := range []int{0, 7, 1000} {
			if err := o.SetStep(step, 0.01); err != nil {
				t.Fatal(err)
			}
			if err := o.SetStepIn(next, step, 0.01); err != nil {
				t.Fatal(err)
			}
			want, got := download(t, o.StepTensor()), download(t, next)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("%s step %d: SetStepIn wrote %v, SetStep %v", name, step, got, want)
			}
		}
		wantError(t, name+" negative step", o.SetStepIn(next, -1, 0.01), "negative")
		o.Free()
	}
	e, err := optim.NewEMA(d, p, nil, 0.999)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Free()
	e.Warmup = true
	next := hostLike(e.StepTensor())
	for _, step := range []int{0, 5, 100000} {
		if err := e.SetStep(step); err != nil {
			t.Fatal(err)
		}
		if err := e.SetStepIn(next, step); err != nil {
			t.Fatal(err)
		}
		want, got := download(t, e.StepTensor()), download(t, next)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("EMA step %d: SetStepIn wrote %v, SetStep %v", step, got, want)
		}
	}
}
