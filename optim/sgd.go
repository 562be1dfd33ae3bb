package optim

import (
	"errors"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// SGDConfig sets SGD.
type SGDConfig struct {
	Momentum float64 // in [0, 1); 0 is plain SGD
	Nesterov bool    // needs Momentum > 0
}

// DefaultSGDConfig is momentum 0.9 without Nesterov.
func DefaultSGDConfig() SGDConfig { return SGDConfig{Momentum: 0.9} }

// SGD is stochastic gradient descent with momentum as PyTorch computes it
// (dampening 0). Per element, with the group's weight decay wd coupled into
// the gradient:
//
//	g   = grad + wd*p
//	buf = momentum*buf + g          // buf starts at 0, so the first buf is g
//	d   = g + momentum*buf if Nesterov, else buf
//	p  -= lr*d
//
// State per group: momentum_buffer.
type SGD struct {
	*base
	cfg SGDConfig
}

// NewSGD allocates SGD's state for groups.
func NewSGD(d *engine.Device, groups []Group, cfg SGDConfig) (*SGD, error) {
	const who = "sgd"
	if err := checkUnit(who, "momentum", cfg.Momentum); err != nil {
		return nil, err
	}
	if cfg.Nesterov && cfg.Momentum == 0 {
		return nil, errors.New("optim: sgd: Nesterov momentum needs a momentum > 0")
	}
	b, err := newBase(d, who, groups, []string{"momentum_buffer"}, []float32{0})
	if err != nil {
		return nil, err
	}
	o := &SGD{base: b, cfg: cfg}
	if err := o.SetStep(0, 0); err != nil {
		o.Free()
		return nil, err
	}
	return o, nil
}

// Record adds one update of every group to s.
func (o *SGD) Record(s *engine.Sequence) {
	nesterov := uint32(0)
	if o.cfg.Nesterov {
		nesterov = 1
	}
	o.record(s, "optim_sgd", func(g Group) any {
		return shaders.OptimSgdPush{
			N:           uint32(g.Params.Len()),
			Momentum:    float32(o.cfg.Momentum),
			WeightDecay: g.WeightDecay,
			Nesterov:    nesterov,
		}
	})
}

// SetStep sets the learning rate of the next update.
func (o *SGD) SetStep(step int, lr float64) error { return o.SetStepIn(o.hyper, step, lr) }

// SetStepIn writes SetStep's values into dst.
func (o *SGD) SetStepIn(dst *engine.Tensor, step int, lr float64) error {
	if err := o.checkStep(step, lr); err != nil {
		return err
	}
	return setHyper(dst, lr)
}
