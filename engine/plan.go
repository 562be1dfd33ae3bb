package engine

import (
	"errors"
	"fmt"
)

// Memory planning: Device.Plan runs code that allocates tensors and records
// sequences (building a network's graph, say) without allocating or
// recording anything, and returns the most bytes its tensors would have
// held at once. Planned tensors have a name, type and shape but no memory;
// planned sequences check and count their dispatches but record nothing.

// ErrPlanned is returned by Upload, Download and Run on what was only
// planned.
var ErrPlanned = errors.New("planned, not allocated")

// planState adds up the bytes of planned tensors.
type planState struct {
	inUse, peak uint64
}

// Plan runs fn with the device in planning mode: NewTensor and
// NewHostTensor return tensors without memory, NewSequence returns
// sequences that record nothing, and the bytes the tensors would take
// (rounded as the arena rounds them) are added up, less those freed. It
// returns the most bytes held at once. Kernels fn asks for are built (and
// cached for the real recording). Nothing else may allocate on the device
// while fn runs; plans do not nest.
func (d *Device) Plan(fn func() error) (peak uint64, err error) {
	if d.plan != nil {
		return 0, fmt.Errorf("engine: Plan called while planning")
	}
	p := &planState{}
	d.plan = p
	defer func() { d.plan = nil }()
	err = fn()
	return p.peak, err
}

// Planning reports whether the device is in planning mode (inside Plan).
func (d *Device) Planning() bool { return d.plan != nil }

// plannedTensor is newTensorIn in planning mode.
func (d *Device) plannedTensor(name string, dt DType, shape []int, bytes uint64) *Tensor {
	align := uint64(d.OffsetAlignment())
	size := alignUp(alignUp(bytes, 16), align)
	t := &Tensor{Name: name, DType: dt, Shape: append([]int(nil), shape...), dev: d, bufLen: size, bytes: bytes,
		plan: d.plan, memLen: size}
	t.root = t
	d.plan.inUse += size
	d.plan.peak = max(d.plan.peak, d.plan.inUse)
	return t
}

// planned reports whether t (or the tensor it views) was only planned.
func (t *Tensor) planned() bool { return t.root.plan != nil }

// freePlanned releases a planned tensor's bytes from its plan.
func (t *Tensor) freePlanned() {
	if t.root == t {
		t.plan.inUse -= t.memLen
	}
}

// planDispatch is Dispatch in a planned sequence: the bindings are checked
// as a recording would (count, binding limit) and the dispatch counted.
func (s *Sequence) planDispatch(k *Kernel, args []*Tensor) {
	info := k.Info
	if len(args) != len(info.Bindings) {
		s.fail(fmt.Errorf("kernel %s takes %d bindings, got %d tensors", info.Name, len(info.Bindings), len(args)))
		return
	}
	limit := s.dev.MaxBindingBytes()
	for i, t := range args {
		if t == nil || t.freed {
			s.fail(fmt.Errorf("kernel %s: binding %d (%s) is nil or freed", info.Name, i, info.Bindings[i].Name))
			return
		}
		if t.bytes > limit {
			s.fail(fmt.Errorf("kernel %s: binding %d (%s): %w", info.Name, i, info.Bindings[i].Name, bindingRangeError(t, limit, s.dev.Info.Name)))
			return
		}
	}
	s.dispatches++
}
