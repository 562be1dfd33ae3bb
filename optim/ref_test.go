package optim_test

import (
	"math"

	"github.com/effv2vk/effv2vk/optim"
)

// The float64 references of the update rules, element by element, written
// from the PyTorch / TensorFlow definitions (not from the kernels).

// refStep updates p and the optimizer's state slots in place for update
// step (from 0) with learning rate lr and weight decay wd.
type refStep func(p, grad []float64, state [][]float64, wd, lr float64, step int)

// refRMSProp is TF's RMSPropOptimizer with momentum (timm's RMSpropTF with
// lr in the momentum): state[0] the square average, state[1] the momentum.
func refRMSProp(c optim.RMSPropConfig) refStep {
	return func(p, grad []float64, state [][]float64, wd, lr float64, _ int) {
		ms, mom := state[0], state[1]
		for i := range p {
			g := grad[i] + wd*p[i]
			ms[i] = c.Rho*ms[i] + (1-c.Rho)*g*g
			mom[i] = c.Momentum*mom[i] + lr*g/math.Sqrt(ms[i]+c.Eps)
			p[i] -= mom[i]
		}
	}
}

// refSGD is torch.optim.SGD (dampening 0): state[0] the momentum buffer,
// which PyTorch sets to the first gradient.
func refSGD(c optim.SGDConfig) refStep {
	return func(p, grad []float64, state [][]float64, wd, lr float64, step int) {
		buf := state[0]
		for i := range p {
			g := grad[i] + wd*p[i]
			if step == 0 {
				buf[i] = g
			} else {
				buf[i] = c.Momentum*buf[i] + g
			}
			d := buf[i]
			if c.Nesterov {
				d = g + c.Momentum*buf[i]
			}
			p[i] -= lr * d
		}
	}
}

// refAdamW is torch.optim.AdamW (amsgrad off): state[0] exp_avg, state[1]
// exp_avg_sq.
func refAdamW(c optim.AdamWConfig) refStep {
	return func(p, grad []float64, state [][]float64, wd, lr float64, step int) {
		m, v := state[0], state[1]
		t := float64(step + 1)
		bc1 := 1 - math.Pow(c.Beta1, t)
		bc2 := 1 - math.Pow(c.Beta2, t)
		for i := range p {
			p[i] *= 1 - lr*wd
			m[i] = c.Beta1*m[i] + (1-c.Beta1)*grad[i]
			v[i] = c.Beta2*v[i] + (1-c.Beta2)*grad[i]*grad[i]
			denom := math.Sqrt(v[i])/math.Sqrt(bc2) + c.Eps
			p[i] -= lr / bc1 * m[i] / denom
		}
	}
}

// refEMA is one update of an exponential moving average with decay d.
func refEMA(ema, x []float64, d float64) {
	for i := range ema {
		ema[i] = d*ema[i] + (1-d)*x[i]
	}
}
