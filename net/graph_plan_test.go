package net_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/net"
)

// TestGraphPlanMatchesAllocation: the activations and scratch a graph is
// planned to take before allocation are what its recording then allocates,
// for a training graph, a forward-only one (whose plan reuses buffers) and
// a training graph split along the batch by a 128 KiB binding limit (whose
// operations allocate per-slice partial sums while recording).
func TestGraphPlanMatchesAllocation(t *testing.T) {
	for _, c := range []struct {
		name  string
		limit string
		gc    net.GraphConfig
	}{
		{"train", "", net.GraphConfig{Batch: 3, Size: 40, Train: true, UpdateRunning: true, Backward: true, Regularize: true}},
		{"forward", "", net.GraphConfig{Batch: 3, Size: 40}},
		{"train split", "131072", net.GraphConfig{Batch: 3, Size: 64, Train: true, UpdateRunning: true, Backward: true}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.limit != "" {
				t.Setenv("EFFV2VK_MAX_STORAGE_RANGE", c.limit)
			}
			d := enginetest.Open(t)
			m := newPicoModel(t, d, 3)
			before := d.Memory().InUse
			g, err := m.Record(c.gc, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer g.Free()
			allocated := d.Memory().InUse - before
			t.Logf("planned %d bytes, allocated %d", g.PlannedBytes, allocated)
			if g.PlannedBytes != allocated || allocated == 0 {
				t.Errorf("planned %d bytes of activations and scratch, the recording allocated %d", g.PlannedBytes, allocated)
			}
			enginetest.Check(t, d)
		})
	}
}

// TestGraphPlanError: on a device with 48 MiB of memory
// (EFFV2VK_DEVICE_MEMORY), a training graph far too large fails before
// anything is allocated, with one error saying what it needs, what the
// device has and the largest batch that fits; that batch records, one more
// image does not fit.
func TestGraphPlanError(t *testing.T) {
	t.Setenv("EFFV2VK_DEVICE_MEMORY", fmt.Sprint(48<<20))
	d := enginetest.Open(t)
	m := newPicoModel(t, d, 3)
	gc := net.GraphConfig{Batch: 64, Size: 64, Train: true, UpdateRunning: true, Backward: true}
	before := d.Memory().InUse
	_, err := m.Record(gc, nil)
	if err == nil {
		t.Fatal("a batch of 64 at 64x64 recorded in 48 MiB")
	}
	t.Log(err)
	if !errors.Is(err, engine.ErrOutOfDeviceMemory) {
		t.Errorf("error %v does not wrap ErrOutOfDeviceMemory", err)
	}
	if after := d.Memory().InUse; after != before {
		t.Errorf("the refused graph left %d bytes allocated", after-before)
	}
	var fit int
	msg := err.Error()
	if i := strings.Index(msg, "the largest batch that fits at 64x64 is "); i < 0 {
		t.Fatalf("error %q does not give the largest batch that fits", msg)
	} else if _, err := fmt.Sscanf(msg[i:], "the largest batch that fits at 64x64 is %d", &fit); err != nil || fit < 1 || fit >= 64 {
		t.Fatalf("error %q: largest batch %d (%v)", msg, fit, err)
	}
	for _, part := range []string{"a training graph of efficientnetv2-pico at batch 64, 64x64 needs", "of activations and scratch", "free of 48.0 MiB"} {
		if !strings.Contains(msg, part) {
			t.Errorf("error %q does not say %q", msg, part)
		}
	}
	gc.Batch = fit
	g, err := m.Record(gc, nil)
	if err != nil {
		t.Fatalf("the batch of %d the error offered: %v", fit, err)
	}
	g.Free()
	gc.Batch = fit + 1
	need, err := m.PlanGraph(gc, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, free := d.TensorMemory(); need <= free {
		t.Errorf("a batch of %d plans %d bytes, within the %d free: the error offered too small a batch", fit+1, need, free)
	}
	enginetest.Check(t, d)
}
