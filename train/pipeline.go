package train

import (
	"fmt"

	"github.com/effv2vk/effv2vk/data"
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/optim"
)

// pipelineSteps, when false (tests), makes a single-process run upload each
// batch straight into the graph and wait for every step before reading the
// next batch, as a multi-process run always does.
var pipelineSteps = true

// inputFeed double-buffers what a training step reads from the host and
// what it returns: while the device runs step N from one slot, the host
// writes step N+1's batch, optimizer and EMA step values and dropout seed
// into the other, and the step's loss and accuracy are copied into its
// slot for the host to read after the next step was queued. A step is
// submitted as the slot's copy-in sequence, the graph's recording and the
// slot's copy-out sequence.
type inputFeed struct {
	g     *net.Graph
	opt   optim.Optimizer
	ema   *optim.EMA // nil without EMA
	slots [2]inputSlot
	next  int // the slot the next step uses
}

// inputSlot is one step's host tensors and the sequences that copy them
// into the graph's inputs and out of its metrics.
type inputSlot struct {
	raw, labels      *engine.Tensor // the batch
	optStep, emaStep *engine.Tensor // optimizer and EMA step values (emaStep nil without EMA)
	rng              *engine.Tensor // dropout seed and step
	loss, correct    *engine.Tensor // the step's metrics, copied out
	copyIn, copyOut  *engine.Sequence
}

// newInputFeed allocates the two slots of g's inputs (g must take raw
// images and compute a loss).
func newInputFeed(dev *engine.Device, g *net.Graph, opt optim.Optimizer, ema *optim.EMA) (*inputFeed, error) {
	if g.Raw == nil || g.Loss == nil {
		return nil, fmt.Errorf("train: input feed of a graph without raw images or loss")
	}
	f := &inputFeed{g: g, opt: opt, ema: ema}
	for k := range f.slots {
		if err := f.slots[k].make(dev, f, k); err != nil {
			f.free()
			return nil, err
		}
	}
	return f, nil
}

func (s *inputSlot) make(dev *engine.Device, f *inputFeed, k int) error {
	g := f.g
	target := g.Labels
	if g.Targets != nil {
		target = g.Targets
	}
	like := func(dst **engine.Tensor, what string, t *engine.Tensor) error {
		var err error
		*dst, err = dev.NewHostTensor(fmt.Sprintf("slot %d %s", k, what), t.DType, t.Shape...)
		return err
	}
	if err := like(&s.raw, "images", g.Raw); err != nil {
		return err
	}
	if err := like(&s.labels, "targets", target); err != nil {
		return err
	}
	if err := like(&s.optStep, "optimizer step", f.opt.StepTensor()); err != nil {
		return err
	}
	if f.ema != nil {
		if err := like(&s.emaStep, "EMA step", f.ema.StepTensor()); err != nil {
			return err
		}
	}
	if err := like(&s.rng, "rng", g.RNG); err != nil {
		return err
	}
	if err := like(&s.loss, "loss", g.Loss); err != nil {
		return err
	}
	if err := like(&s.correct, "correct", g.Correct); err != nil {
		return err
	}
	var err error
	if s.copyIn, err = dev.NewSequence(fmt.Sprintf("copy into step from slot %d", k), engine.SequenceOptions{}); err != nil {
		return err
	}
	s.copyIn.Copy(g.Raw, s.raw)
	s.copyIn.Copy(target, s.labels)
	s.copyIn.Copy(f.opt.StepTensor(), s.optStep)
	if f.ema != nil {
		s.copyIn.Copy(f.ema.StepTensor(), s.emaStep)
	}
	s.copyIn.Copy(g.RNG, s.rng)
	if err := s.copyIn.Finish(); err != nil {
		return err
	}
	if s.copyOut, err = dev.NewSequence(fmt.Sprintf("copy step metrics to slot %d", k), engine.SequenceOptions{}); err != nil {
		return err
	}
	s.copyOut.Copy(s.loss, g.Loss)
	s.copyOut.Copy(s.correct, g.Correct)
	return s.copyOut.Finish()
}

// stepInputs is what the host writes for one step besides its batch.
type stepInputs struct {
	step      int // steps done before this one
	lr        float64
	seed      uint64
	firstSeed uint32 // this rank's first sample in the global batch
}

// load writes batch b (this rank's part) and the step's values into the
// next slot and returns the slot's index. The slot was last used by the
// step before the one in flight, which the caller has waited for.
func (f *inputFeed) load(b *data.Batch, in stepInputs) (int, error) {
	k := f.next
	s := &f.slots[k]
	f.next = 1 - f.next
	if err := s.raw.Upload(b.Images); err != nil {
		return k, fmt.Errorf("train: batch of %dx%dx%d images: %w", b.H, b.W, b.C, err)
	}
	var err error
	if f.g.Targets != nil {
		err = s.labels.Upload(b.Targets)
	} else {
		err = s.labels.Upload(b.Labels)
	}
	if err != nil {
		return k, err
	}
	if err := f.opt.SetStepIn(s.optStep, in.step, in.lr); err != nil {
		return k, err
	}
	if f.ema != nil {
		if err := f.ema.SetStepIn(s.emaStep, in.step); err != nil {
			return k, err
		}
	}
	return k, ops.SetRNGStateAt(s.rng, in.seed, uint32(in.step), in.firstSeed)
}

// submit queues the step whose inputs slot k holds.
func (f *inputFeed) submit(dev *engine.Device, k int) (*engine.Pending, error) {
	s := &f.slots[k]
	return dev.Submit(s.copyIn, f.g.Seq, s.copyOut)
}

// metrics are the tensors slot k's step copied its loss and accuracy to.
func (f *inputFeed) metrics(k int) (loss, correct *engine.Tensor) {
	return f.slots[k].loss, f.slots[k].correct
}

// free releases both slots (the device must be idle).
func (f *inputFeed) free() {
	for k := range f.slots {
		s := &f.slots[k]
		for _, q := range []*engine.Sequence{s.copyIn, s.copyOut} {
			if q != nil {
				q.Release()
			}
		}
		for _, t := range []*engine.Tensor{s.raw, s.labels, s.optStep, s.emaStep, s.rng, s.loss, s.correct} {
			if t != nil {
				t.Free()
			}
		}
	}
}
