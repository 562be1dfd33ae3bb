package net

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// PlanGraph returns the device memory a recording of gc (with after
// appended, as Record takes it) would allocate for its activations and
// scratch: the forward activations, the gradients of the backward pass
// (after the memory plan's reuse), weight-gradient scratch and the partial
// sums of operations split along the batch. It allocates and records
// nothing (engine.Device.Plan); the model's state is not included (it is
// allocated already: see PlanState).
func (m *Model) PlanGraph(gc GraphConfig, after func(s *engine.Sequence) error) (uint64, error) {
	return m.Dev.Plan(func() error {
		g, err := m.record(gc, after)
		if err != nil {
			return err
		}
		g.Free()
		return nil
	})
}

// checkGraphPlan returns nil when need bytes of activations and scratch fit
// the device memory left, and otherwise one error with what the graph
// needs, what the device has and what would fit: the largest batch at this
// image size (activations grow linearly with the batch), or a smaller image
// size when not even one image fits.
func (m *Model) checkGraphPlan(gc GraphConfig, after func(s *engine.Sequence) error, need uint64) error {
	capacity, free := m.Dev.TensorMemory()
	if need <= free {
		return nil
	}
	b := engine.FormatBytes
	held := m.Dev.Memory().InUse
	kind := "an inference graph"
	if gc.Backward {
		kind = "a training graph"
	}
	advice := ""
	switch fit := m.largestBatch(gc, after, need, free); {
	case fit > 0:
		advice = fmt.Sprintf("the largest batch that fits at %dx%d is %d (or use a smaller image size or a device with more memory)", gc.Size, gc.Size, fit)
	default:
		advice = fmt.Sprintf("not even a batch of 1 fits at %dx%d: use a smaller image size or a device with more memory", gc.Size, gc.Size)
	}
	return fmt.Errorf("net: %s of %s at batch %d, %dx%d needs %s of device memory: %s of activations and scratch on top of the %s that the model's state and other graphs hold; %s has %s free of %s: %s: %w",
		kind, m.Config.Name, gc.Batch, gc.Size, gc.Size, b(held+need), b(need), b(held), m.Dev.Info.Name, b(free), b(capacity), advice, engine.ErrOutOfDeviceMemory)
}

// largestBatch is the largest batch below gc.Batch whose planned graph fits
// free bytes, or 0. Activations grow linearly with the batch, so two plans
// (batch 1 and gc.Batch) give the estimate; a few more confirm it.
func (m *Model) largestBatch(gc GraphConfig, after func(s *engine.Sequence) error, need, free uint64) int {
	plan := func(n int) (uint64, bool) {
		c := gc
		c.Batch = n
		p, err := m.PlanGraph(c, after)
		return p, err == nil
	}
	one, ok := plan(1)
	if !ok || one > free || gc.Batch < 2 {
		return 0
	}
	perImage := max((need-one)/uint64(gc.Batch-1), 1)
	n := min(gc.Batch-1, 1+int((free-one)/perImage))
	for tries := 0; n > 1 && tries < 8; tries++ {
		if p, ok := plan(n); ok && p <= free {
			return n
		}
		n--
	}
	return 1
}
