package optim

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// NamedTensor is one tensor of an optimizer's or EMA's state, named for
// checkpoints (e.g. "rmsprop/group0/square_avg").
type NamedTensor struct {
	Name   string
	Tensor *engine.Tensor
}

// stateTensor is state kept beside a group: the kernels bind padded (a
// multiple of 4 elements, so every vec4 is whole) and checkpoints see view,
// the first n elements.
type stateTensor struct {
	padded *engine.Tensor
	view   *engine.Tensor
}

// newState allocates state for n elements, every element (padding included)
// set to fill.
func newState(d *engine.Device, name string, n int, fill float32) (*stateTensor, error) {
	m := (n + 3) / 4 * 4
	padded, err := d.NewTensor(name, engine.Float32, m)
	if err != nil {
		return nil, fmt.Errorf("optim: state %s: %w", name, err)
	}
	init := make([]float32, m)
	if fill != 0 {
		for i := range init {
			init[i] = fill
		}
	}
	if err := padded.Upload(init); err != nil {
		padded.Free()
		return nil, fmt.Errorf("optim: state %s: %w", name, err)
	}
	view, err := padded.Slice(name, 0, n)
	if err != nil {
		padded.Free()
		return nil, fmt.Errorf("optim: state %s: %w", name, err)
	}
	return &stateTensor{padded: padded, view: view}, nil
}

func (st *stateTensor) free() {
	if st != nil {
		st.view.Free()
		st.padded.Free()
	}
}

// hyperLen is the length of the per-step hyperparameter tensor.
const hyperLen = 4

// newHyper allocates the small tensor of per-step values a kernel reads.
func newHyper(d *engine.Device, name string) (*engine.Tensor, error) {
	h, err := d.NewTensor(name, engine.Float32, hyperLen)
	if err != nil {
		return nil, fmt.Errorf("optim: %s: %w", name, err)
	}
	return h, nil
}

// setHyper uploads per-step values (at most hyperLen) to h.
func setHyper(h *engine.Tensor, values ...float64) error {
	v := make([]float32, hyperLen)
	for i, x := range values {
		v[i] = float32(x)
	}
	return h.Upload(v)
}

// vec4s is the number of invocations (one vec4 each) covering n elements.
func vec4s(n int) int { return (n + 3) / 4 }
