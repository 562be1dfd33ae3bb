package train

import (
	"fmt"

	"github.com/effv2vk/effv2vk/data"
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
)

// pipelineSteps, when false (tests), makes a single-process run upload each
// batch straight into the graph and wait for every step before reading the
// next batch, as a multi-process run always does.
var pipelineSteps = true

// inputFeed double-buffers a training graph's inputs: while the device runs
// step N, reading the batch it copied from one slot, the host uploads batch
// N+1 into the other. Each step is submitted as the slot's copy sequence
// followed by the graph's recording.
type inputFeed struct {
	g     *net.Graph
	slots [2]inputSlot
	next  int // the slot the next batch goes to
}

// inputSlot is one buffered batch: images and labels (or soft targets) and
// the sequence that copies them into the graph's inputs.
type inputSlot struct {
	raw, labels *engine.Tensor
	copyIn      *engine.Sequence
}

// newInputFeed allocates the two slots of g's inputs (g must take raw
// images).
func newInputFeed(dev *engine.Device, g *net.Graph) (*inputFeed, error) {
	if g.Raw == nil {
		return nil, fmt.Errorf("train: input feed of a graph without raw images")
	}
	f := &inputFeed{g: g}
	for k := range f.slots {
		if err := f.slots[k].make(dev, g, k); err != nil {
			f.free()
			return nil, err
		}
	}
	return f, nil
}

func (s *inputSlot) make(dev *engine.Device, g *net.Graph, k int) error {
	target := g.Labels
	if g.Targets != nil {
		target = g.Targets
	}
	var err error
	if s.raw, err = dev.NewHostTensor(fmt.Sprintf("input slot %d images", k), g.Raw.DType, g.Raw.Shape...); err != nil {
		return err
	}
	if s.labels, err = dev.NewHostTensor(fmt.Sprintf("input slot %d targets", k), target.DType, target.Shape...); err != nil {
		return err
	}
	if s.copyIn, err = dev.NewSequence(fmt.Sprintf("copy input slot %d", k), engine.SequenceOptions{}); err != nil {
		return err
	}
	s.copyIn.Copy(g.Raw, s.raw)
	s.copyIn.Copy(target, s.labels)
	return s.copyIn.Finish()
}

// load uploads batch b (this rank's part) into the next slot and returns
// that slot's copy sequence. The slot was last read by the step before the
// one in flight, which the caller has waited for.
func (f *inputFeed) load(b *data.Batch) (*engine.Sequence, error) {
	s := &f.slots[f.next]
	f.next = 1 - f.next
	if err := s.raw.Upload(b.Images); err != nil {
		return nil, fmt.Errorf("train: batch of %dx%dx%d images: %w", b.H, b.W, b.C, err)
	}
	if f.g.Targets != nil {
		return s.copyIn, s.labels.Upload(b.Targets)
	}
	return s.copyIn, s.labels.Upload(b.Labels)
}

// free releases both slots (the device must be idle).
func (f *inputFeed) free() {
	for k := range f.slots {
		s := &f.slots[k]
		if s.copyIn != nil {
			s.copyIn.Release()
		}
		if s.labels != nil {
			s.labels.Free()
		}
		if s.raw != nil {
			s.raw.Free()
		}
	}
}
