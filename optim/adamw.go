package optim

import (
	"errors"
	"math"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// AdamWConfig sets AdamW.
type AdamWConfig struct {
	Beta1, Beta2 float64 // moment decays, in [0, 1)
	Eps          float64 // added to sqrt(v_hat), outside the sqrt, > 0
}

// DefaultAdamWConfig is PyTorch's default: betas (0.9, 0.999), eps 1e-8.
func DefaultAdamWConfig() AdamWConfig { return AdamWConfig{Beta1: 0.9, Beta2: 0.999, Eps: 1e-8} }

// AdamW is Adam with decoupled weight decay as PyTorch computes it. Per
// element, at update t = step+1, with the group's weight decay wd:
//
//	p -= lr*wd*p
//	m  = beta1*m + (1-beta1)*grad
//	v  = beta2*v + (1-beta2)*grad*grad
//	p -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)
//
// State per group: exp_avg (m) and exp_avg_sq (v).
type AdamW struct {
	*base
	cfg AdamWConfig
}

// NewAdamW allocates AdamW's state for groups.
func NewAdamW(d *engine.Device, groups []Group, cfg AdamWConfig) (*AdamW, error) {
	const who = "adamw"
	if err := errors.Join(checkUnit(who, "beta1", cfg.Beta1), checkUnit(who, "beta2", cfg.Beta2), checkPositive(who, "eps", cfg.Eps)); err != nil {
		return nil, err
	}
	b, err := newBase(d, who, groups, []string{"exp_avg", "exp_avg_sq"}, []float32{0, 0})
	if err != nil {
		return nil, err
	}
	o := &AdamW{base: b, cfg: cfg}
	if err := o.SetStep(0, 0); err != nil {
		o.Free()
		return nil, err
	}
	return o, nil
}

// Record adds one update of every group to s.
func (o *AdamW) Record(s *engine.Sequence) {
	o.record(s, "optim_adamw", func(g Group) any {
		return shaders.OptimAdamwPush{
			N:             uint32(g.Params.Len()),
			OneMinusBeta1: float32(1 - o.cfg.Beta1),
			OneMinusBeta2: float32(1 - o.cfg.Beta2),
			Eps:           float32(o.cfg.Eps),
			WeightDecay:   g.WeightDecay,
		}
	})
}

// SetStep sets the learning rate and the bias corrections of update
// step+1.
func (o *AdamW) SetStep(step int, lr float64) error { return o.SetStepIn(o.hyper, step, lr) }

// SetStepIn writes SetStep's values into dst.
func (o *AdamW) SetStepIn(dst *engine.Tensor, step int, lr float64) error {
	if err := o.checkStep(step, lr); err != nil {
		return err
	}
	t := float64(step + 1)
	bc1 := 1 - math.Pow(o.cfg.Beta1, t)
	bc2 := 1 - math.Pow(o.cfg.Beta2, t)
	return setHyper(dst, lr, lr/bc1, 1/math.Sqrt(bc2))
}
