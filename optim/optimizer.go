package optim

import (
	"fmt"
	"math"
	"strings"

	"github.com/effv2vk/effv2vk/engine"
)

// Optimizer updates parameter groups from their gradients on the device.
//
// Record adds one update of every group to a sequence (recording errors go
// to the sequence, as with the ops). SetStep sets the values that change
// every step, without re-recording: call it before each run of the sequence,
// with step the number of updates already applied (0 for the first) and lr
// the learning rate of this update; do not call it while the sequence runs.
// State lists the optimizer's state tensors for checkpoints (exact group
// lengths, in a fixed order); Free releases them.
type Optimizer interface {
	Name() string
	Record(s *engine.Sequence)
	SetStep(step int, lr float64) error
	// SetStepIn writes what SetStep would into dst, a tensor shaped like
	// StepTensor (a host tensor that a sequence copies into StepTensor
	// before the update: the next step's values, written while the
	// current step still reads StepTensor).
	SetStepIn(dst *engine.Tensor, step int, lr float64) error
	// StepTensor is the per-step tensor SetStep writes and the recorded
	// update reads.
	StepTensor() *engine.Tensor
	State() []NamedTensor
	Free()
}

// Config holds the settings of every optimizer; New reads those of the one it
// builds.
type Config struct {
	RMSProp RMSPropConfig
	SGD     SGDConfig
	AdamW   AdamWConfig
}

// DefaultConfig is every optimizer's default settings.
func DefaultConfig() Config {
	return Config{RMSProp: DefaultRMSPropConfig(), SGD: DefaultSGDConfig(), AdamW: DefaultAdamWConfig()}
}

// Names lists the optimizers New knows.
func Names() []string { return []string{"rmsprop", "sgd", "adamw"} }

// New builds the optimizer called name ("rmsprop", "sgd" or "adamw", any
// case) over groups with its settings from cfg.
func New(name string, d *engine.Device, groups []Group, cfg Config) (Optimizer, error) {
	switch strings.ToLower(name) {
	case "rmsprop":
		return NewRMSProp(d, groups, cfg.RMSProp)
	case "sgd":
		return NewSGD(d, groups, cfg.SGD)
	case "adamw":
		return NewAdamW(d, groups, cfg.AdamW)
	}
	return nil, fmt.Errorf("optim: unknown optimizer %q; choose one of %s", name, strings.Join(Names(), ", "))
}

// base is what every optimizer shares: its groups, the per-step tensor and
// the state slots kept beside each group.
type base struct {
	name   string
	groups []Group
	hyper  *engine.Tensor
	slots  []string         // state names, e.g. square_avg
	state  [][]*stateTensor // [group][slot]
	// ranges cuts each group's params, grads and state into binding ranges.
	ranges [][]bindingRange // [group][range]
	freed  bool
}

// newBase allocates the per-step tensor and, for each group, one state tensor
// per slot filled with the slot's initial value.
func newBase(d *engine.Device, name string, groups []Group, slots []string, fills []float32) (*base, error) {
	if d == nil {
		return nil, fmt.Errorf("optim: %s: nil device", name)
	}
	if err := checkGroups(name, groups); err != nil {
		return nil, err
	}
	b := &base{name: name, groups: append([]Group(nil), groups...), slots: slots}
	var err error
	if b.hyper, err = newHyper(d, name+"/hyper"); err != nil {
		return nil, err
	}
	for gi, g := range groups {
		row := make([]*stateTensor, len(slots))
		b.state = append(b.state, row)
		for si, slot := range slots {
			if row[si], err = newState(d, fmt.Sprintf("%s/group%d/%s", name, gi, slot), g.Params.Len(), fills[si]); err != nil {
				b.Free()
				return nil, err
			}
		}
		cut := []*engine.Tensor{g.Params, g.Grads}
		for _, st := range row {
			cut = append(cut, st.padded)
		}
		rs, err := cutRanges(d, g.Params.Len(), cut...)
		if err != nil {
			b.Free()
			return nil, err
		}
		b.ranges = append(b.ranges, rs)
	}
	return b, nil
}

// Name is the optimizer's name as New knows it.
func (b *base) Name() string { return b.name }

// State lists the state tensors, group by group, slot by slot.
func (b *base) State() []NamedTensor {
	var out []NamedTensor
	for _, row := range b.state {
		for _, st := range row {
			out = append(out, NamedTensor{Name: st.view.Name, Tensor: st.view})
		}
	}
	return out
}

// Free releases the state and the per-step tensor (not the groups).
func (b *base) Free() {
	if b.freed {
		return
	}
	b.freed = true
	for _, rs := range b.ranges {
		freeRanges(rs)
	}
	b.ranges = nil
	for _, row := range b.state {
		for _, st := range row {
			st.free()
		}
	}
	b.state = nil
	b.hyper.Free()
}

// record dispatches kernel once per binding range of each group (once per
// group when it fits one binding), binding the per-step tensor, the
// range's parameters (as vec4[] and as float[] for the tail), gradients and
// state, then the parameters and state again as texel views, with push
// constants from push (given the range as a group). The launch is the
// tuner's choice for the longest range (see chooseLaunch).
func (b *base) record(s *engine.Sequence, kernel string, push func(g Group) any) {
	if b.freed {
		s.Fail(fmt.Errorf("optim: %s: Record after Free", b.name))
		return
	}
	if s.Err() != nil {
		return
	}
	longest := 0
	for _, rs := range b.ranges {
		for _, r := range rs {
			longest = max(longest, r.n)
		}
	}
	l, err := chooseLaunch(s.Device(), kernel, longest, b.bench(push))
	if err != nil {
		s.Fail(err)
		return
	}
	k := l.kernel(s, kernel)
	for gi, g := range b.groups {
		for _, r := range b.ranges[gi] {
			params, grads := r.tensors[0], r.tensors[1]
			l.dispatch(s, k, r.n, push(Group{Params: params, Grads: grads, WeightDecay: g.WeightDecay}), b.args(params, grads, r.tensors[2:])...)
		}
	}
}

// args lists the bindings of an update kernel over one range: the per-step
// tensor, the parameters as vec4[] and float[], the gradients, the state,
// then the parameters and the state as texel views.
func (b *base) args(params, grads *engine.Tensor, state []*engine.Tensor) []*engine.Tensor {
	out := append([]*engine.Tensor{b.hyper, params, params, grads}, state...)
	return append(append(out, params), state...)
}

// bench times launches of the update on scratch parameters, gradients and
// state of n elements, with the first group's weight decay.
func (b *base) bench(push func(g Group) any) rangeBench {
	return func(d *engine.Device, n int) (func(s *engine.Sequence, k *engine.Kernel, l launch), func(), error) {
		n = 4 * vec4s(n)
		ts, free, err := scratchTensors(d, b.name, 2+len(b.slots), n)
		if err != nil {
			return nil, nil, err
		}
		g := Group{Params: ts[0], Grads: ts[1], WeightDecay: b.groups[0].WeightDecay}
		return func(s *engine.Sequence, k *engine.Kernel, l launch) {
			l.dispatch(s, k, n, push(g), b.args(g.Params, g.Grads, ts[2:])...)
		}, free, nil
	}
}

// StepTensor is the per-step tensor the recorded update reads.
func (b *base) StepTensor() *engine.Tensor { return b.hyper }

// checkStep rejects use after Free, a negative step or a learning rate that is negative or
// not finite.
func (b *base) checkStep(step int, lr float64) error {
	if b.freed {
		return fmt.Errorf("optim: %s: SetStep after Free", b.name)
	}
	if step < 0 {
		return fmt.Errorf("optim: %s: step %d is negative; steps count updates already applied, from 0", b.name, step)
	}
	if math.IsNaN(lr) || math.IsInf(lr, 0) || lr < 0 {
		return fmt.Errorf("optim: %s: learning rate %v at step %d must be a finite value >= 0", b.name, lr, step)
	}
	return nil
}

// checkUnit rejects a setting outside [0, 1).
func checkUnit(who, what string, v float64) error {
	if math.IsNaN(v) || v < 0 || v >= 1 {
		return fmt.Errorf("optim: %s: %s %v must be in [0, 1)", who, what, v)
	}
	return nil
}

// checkPositive rejects a setting that is not a finite value > 0.
func checkPositive(who, what string, v float64) error {
	if math.IsNaN(v) || math.IsInf(v, 0) || v <= 0 {
		return fmt.Errorf("optim: %s: %s %v must be a finite value > 0", who, what, v)
	}
	return nil
}

// StateSlots is the number of state tensors optimizer name keeps per
// parameter (for memory plans made before anything is allocated).
func StateSlots(name string) (int, error) {
	switch strings.ToLower(name) {
	case "rmsprop", "adamw":
		return 2, nil
	case "sgd":
		return 1, nil
	}
	return 0, fmt.Errorf("optim: unknown optimizer %q; choose one of %s", name, strings.Join(Names(), ", "))
}
