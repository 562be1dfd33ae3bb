package optim

import (
	"errors"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// RMSPropConfig sets TF-style RMSProp.
type RMSPropConfig struct {
	Rho      float64 // decay of the square average, in [0, 1)
	Momentum float64 // in [0, 1)
	Eps      float64 // added to the square average inside the sqrt, > 0
}

// DefaultRMSPropConfig is the EfficientNetV2 recipe: decay 0.9, momentum 0.9,
// epsilon 1e-3.
func DefaultRMSPropConfig() RMSPropConfig { return RMSPropConfig{Rho: 0.9, Momentum: 0.9, Eps: 1e-3} }

// RMSProp is RMSProp as TensorFlow (and timm's RMSpropTF) computes it, the
// optimizer of the EfficientNetV2 paper. Per element, with the group's
// weight decay wd coupled into the gradient:
//
//	g   = grad + wd*p
//	ms  = rho*ms + (1-rho)*g*g      // ms starts at 1, as TF's rms slot
//	mom = momentum*mom + lr*g/sqrt(ms + eps)
//	p  -= mom
//
// State per group: square_avg (ms) and momentum_buffer (mom).
type RMSProp struct {
	*base
	cfg RMSPropConfig
}

// NewRMSProp allocates RMSProp's state for groups.
func NewRMSProp(d *engine.Device, groups []Group, cfg RMSPropConfig) (*RMSProp, error) {
	const who = "rmsprop"
	if err := errors.Join(checkUnit(who, "rho", cfg.Rho), checkUnit(who, "momentum", cfg.Momentum), checkPositive(who, "eps", cfg.Eps)); err != nil {
		return nil, err
	}
	b, err := newBase(d, who, groups, []string{"square_avg", "momentum_buffer"}, []float32{1, 0})
	if err != nil {
		return nil, err
	}
	o := &RMSProp{base: b, cfg: cfg}
	if err := o.SetStep(0, 0); err != nil {
		o.Free()
		return nil, err
	}
	return o, nil
}

// Record adds one update of every group to s.
func (o *RMSProp) Record(s *engine.Sequence) {
	o.record(s, "optim_rmsprop", func(g Group) any {
		return shaders.OptimRmspropPush{
			N:           uint32(g.Params.Len()),
			OneMinusRho: float32(1 - o.cfg.Rho),
			Momentum:    float32(o.cfg.Momentum),
			Eps:         float32(o.cfg.Eps),
			WeightDecay: g.WeightDecay,
		}
	})
}

// SetStep sets the learning rate of the next update.
func (o *RMSProp) SetStep(step int, lr float64) error { return o.SetStepIn(o.hyper, step, lr) }

// SetStepIn writes SetStep's values into dst.
func (o *RMSProp) SetStepIn(dst *engine.Tensor, step int, lr float64) error {
	if err := o.checkStep(step, lr); err != nil {
		return err
	}
	return setHyper(dst, lr)
}
