package net_test

import (
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
)

// TestStatePlan: the plan made before allocation matches what NewModel then
// allocates, and a state beyond the device's memory gives one error with
// what is needed, what the device has and what would fit.
func TestStatePlan(t *testing.T) {
	d := enginetest.Open(t)
	pico, _ := arch.Lookup("efficientnetv2-pico", 10)
	plan := net.PlanState(d, pico, 2, true)
	before := d.Memory().InUse
	m, err := net.NewModel(d, pico, 1)
	if err != nil {
		t.Fatal(err)
	}
	held := d.Memory().InUse - before
	m.Free()
	if inf := plan.Inference().Total(); held < inf || held > inf+4096 {
		t.Errorf("NewModel holds %d bytes, the plan says %d (params %d, grads %d, stats %d)", held, inf, plan.Params, plan.Grads, plan.Stats)
	}
	if plan.Optimizer != 2*plan.Params || plan.EMA != plan.Params+plan.Stats {
		t.Errorf("optimizer %d and EMA %d bytes for params %d, stats %d", plan.Optimizer, plan.EMA, plan.Params, plan.Stats)
	}
	if err := plan.Check(d, "training"); err != nil {
		t.Errorf("pico does not fit: %v", err)
	}
	large, _ := arch.Lookup("efficientnetv2-l", 1000)
	capacity, _ := d.TensorMemory()
	lp := net.PlanState(d, large, 2, true)
	if lp.Total() <= capacity {
		t.Skipf("efficientnetv2-l's training state (%d bytes) fits this device (%d)", lp.Total(), capacity)
	}
	err = lp.Check(d, "training")
	if err == nil {
		t.Fatal("efficientnetv2-l training state beyond the device: no error")
	}
	t.Log(err)
	for _, want := range []string{"needs 2.", "parameters 452.", "optimizer state", "EMA", "free of", "what fits: ", "inference"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if err := lp.Inference().Check(d, "inference"); err != nil {
		t.Errorf("efficientnetv2-l inference state does not fit: %v", err)
	}
}
