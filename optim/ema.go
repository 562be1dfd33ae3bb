package optim

import (
	"fmt"
	"math"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// EMA keeps an exponential moving average of the live weights and batch-norm
// running statistics, the weights EfficientNetV2 is evaluated with. Each
// recorded update computes, per element,
//
//	ema = d*ema + (1-d)*x
//
// for the parameters and the statistics, with d the decay of the step (see
// DecayAt). The averages start as a copy of the live values at NewEMA.
//
// For evaluation, Swap exchanges the live tensors and the averages in place
// (no extra memory): record it before and after the evaluation forward pass
// (or run a sequence holding only a Swap, twice). Between the two swaps the
// live tensors hold the averages and the EMA holds the training weights, so
// no update may run then.
type EMA struct {
	// Warmup makes the decay of step t min(decay, (1+t)/(10+t)) (TF's
	// ExponentialMovingAverage with num_updates, as in timm): early averages
	// follow the weights closely. Takes effect at the next SetStep.
	Warmup bool

	dev   *engine.Device
	decay float64
	hyper *engine.Tensor
	pairs []emaPair
	freed bool
}

// emaPair is one live tensor and its average.
type emaPair struct {
	name string
	live *engine.Tensor
	avg  *stateTensor
	// ranges cuts live and avg.padded into binding ranges.
	ranges []bindingRange
}

// NewEMA averages params and, when not nil, stats (both float32, typically
// net.Store's Params and Stats), with decay in [0, 1) (the paper's is
// 0.9999). The averages start as copies of the current values.
func NewEMA(d *engine.Device, params, stats *engine.Tensor, decay float64) (*EMA, error) {
	if d == nil || params == nil {
		return nil, fmt.Errorf("optim: ema: nil device or params tensor")
	}
	if err := checkUnit("ema", "decay", decay); err != nil {
		return nil, err
	}
	e := &EMA{dev: d, decay: decay}
	live := []emaPair{{name: "params", live: params}}
	if stats != nil {
		live = append(live, emaPair{name: "stats", live: stats})
	}
	var err error
	if e.hyper, err = newHyper(d, "ema/hyper"); err != nil {
		return nil, err
	}
	for _, p := range live {
		if p.live.DType != engine.Float32 {
			e.Free()
			return nil, fmt.Errorf("optim: ema: %s tensor %s must be float32", p.name, p.live)
		}
		if p.avg, err = newState(d, "ema/"+p.name, p.live.Len(), 0); err != nil {
			e.Free()
			return nil, err
		}
		if p.ranges, err = cutRanges(d, p.live.Len(), p.live, p.avg.padded); err != nil {
			p.avg.free()
			e.Free()
			return nil, err
		}
		e.pairs = append(e.pairs, p)
	}
	if err := e.Reset(); err != nil {
		e.Free()
		return nil, err
	}
	if err := e.SetStep(0); err != nil {
		e.Free()
		return nil, err
	}
	return e, nil
}

// DecayAt is the decay used by update step (counted from 0).
func (e *EMA) DecayAt(step int) float64 {
	if !e.Warmup {
		return e.decay
	}
	return math.Min(e.decay, (1+float64(step))/(10+float64(step)))
}

// SetStep sets the decay of the next update, step (counted from 0). Call
// it before each run of a sequence holding Record when Warmup is on; without
// warmup the decay never changes.
func (e *EMA) SetStep(step int) error { return e.SetStepIn(e.hyper, step) }

// SetStepIn writes SetStep's value into dst, a tensor shaped like
// StepTensor that a sequence copies into it before the update.
func (e *EMA) SetStepIn(dst *engine.Tensor, step int) error {
	if e.freed {
		return fmt.Errorf("optim: ema: SetStep after Free")
	}
	if step < 0 {
		return fmt.Errorf("optim: ema: step %d is negative; steps count updates already applied, from 0", step)
	}
	return setHyper(dst, 1-e.DecayAt(step))
}

// StepTensor is the per-step tensor SetStep writes and Record's update
// reads.
func (e *EMA) StepTensor() *engine.Tensor { return e.hyper }

// Record adds one update of the averages from the live tensors to s.
func (e *EMA) Record(s *engine.Sequence) {
	if e.freed {
		s.Fail(fmt.Errorf("optim: ema: Record after Free"))
		return
	}
	e.record(s, "optim_ema", func(n int) any { return shaders.OptimEmaPush{N: uint32(n)} },
		func(live, avg *engine.Tensor) []*engine.Tensor { return []*engine.Tensor{e.hyper, avg, live, avg} })
}

// Swap adds to s an exchange of the live tensors and their averages. A
// second Swap undoes the first.
func (e *EMA) Swap(s *engine.Sequence) {
	if e.freed {
		s.Fail(fmt.Errorf("optim: ema: Swap after Free"))
		return
	}
	e.record(s, "optim_ema_swap", func(n int) any { return shaders.OptimEmaSwapPush{N: uint32(n)} },
		func(live, avg *engine.Tensor) []*engine.Tensor { return []*engine.Tensor{live, live, avg, live, avg} })
}

// record dispatches kernel (optim_ema or optim_ema_swap) over every binding
// range of the pairs, with push constants from push (given the range's
// length) and the bindings args lists, in the launch the tuner chooses for
// the longest range.
func (e *EMA) record(s *engine.Sequence, kernel string, push func(n int) any, args func(live, avg *engine.Tensor) []*engine.Tensor) {
	if s.Err() != nil {
		return
	}
	longest := 0
	for _, p := range e.pairs {
		for _, r := range p.ranges {
			longest = max(longest, r.n)
		}
	}
	bench := func(d *engine.Device, n int) (func(s *engine.Sequence, k *engine.Kernel, l launch), func(), error) {
		n = 4 * vec4s(n)
		ts, free, err := scratchTensors(d, "ema", 2, n)
		if err != nil {
			return nil, nil, err
		}
		return func(s *engine.Sequence, k *engine.Kernel, l launch) {
			l.dispatch(s, k, n, push(n), args(ts[0], ts[1])...)
		}, free, nil
	}
	l, err := chooseLaunch(s.Device(), kernel, longest, bench)
	if err != nil {
		s.Fail(err)
		return
	}
	k := l.kernel(s, kernel)
	for _, p := range e.pairs {
		for _, r := range p.ranges {
			l.dispatch(s, k, r.n, push(r.n), args(r.tensors[0], r.tensors[1])...)
		}
	}
}

// Reset sets the averages to the current live values now (a one-shot
// sequence), e.g. after loading weights into the live tensors.
func (e *EMA) Reset() error {
	if e.freed {
		return fmt.Errorf("optim: ema: Reset after Free")
	}
	s, err := e.dev.NewSequence("ema reset", engine.SequenceOptions{})
	if err != nil {
		return fmt.Errorf("optim: ema reset: %w", err)
	}
	defer s.Release()
	for _, p := range e.pairs {
		s.Zero(p.avg.padded)
		s.Copy(p.avg.view, p.live)
	}
	if err := e.dev.Run(s); err != nil {
		return fmt.Errorf("optim: ema reset: %w", err)
	}
	return nil
}

// State lists the averages for checkpoints: "ema/params" and, with
// statistics, "ema/stats".
func (e *EMA) State() []NamedTensor {
	var out []NamedTensor
	for _, p := range e.pairs {
		out = append(out, NamedTensor{Name: p.avg.view.Name, Tensor: p.avg.view})
	}
	return out
}

// Free releases the averages and the per-step tensor (not the live
// tensors).
func (e *EMA) Free() {
	if e.freed {
		return
	}
	e.freed = true
	for _, p := range e.pairs {
		freeRanges(p.ranges)
		p.avg.free()
	}
	e.pairs = nil
	e.hyper.Free()
}
