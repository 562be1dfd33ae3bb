package net

import (
	"fmt"
	"strings"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net/arch"
)

// StatePlan is the device memory a model's state takes, known from its
// config before anything is allocated: parameters, gradients (NewModel
// always allocates them), batch-norm statistics, and for training the
// optimizer's state and the EMA's averages. Activations and scratch come on
// top; a recorded graph reports them (Graph.ActivationPlan, engine's Memory).
type StatePlan struct {
	Model     string `json:"model"`
	Params    uint64 `json:"params_bytes"`
	Grads     uint64 `json:"grads_bytes"`
	Stats     uint64 `json:"bn_stats_bytes"`
	Optimizer uint64 `json:"optimizer_bytes"`
	EMA       uint64 `json:"ema_bytes"`
}

// PlanState plans cfg's state on d: optimizerSlots state tensors per
// parameter (0 for inference; see optim.StateSlots) and, with ema, averages
// of the parameters and statistics.
func PlanState(d *engine.Device, cfg arch.Config, optimizerSlots int, ema bool) StatePlan {
	lay := NewLayout(cfg, d.OffsetAlignment()/4)
	bytes := func(n int) uint64 { return uint64(n+3) / 4 * 16 }
	p := StatePlan{Model: cfg.Name, Params: bytes(lay.ParamsLen), Grads: bytes(lay.ParamsLen), Stats: bytes(lay.StatsLen)}
	p.Optimizer = uint64(optimizerSlots) * p.Params
	if ema {
		p.EMA = p.Params + p.Stats
	}
	return p
}

// Total is the plan's bytes.
func (p StatePlan) Total() uint64 { return p.Params + p.Grads + p.Stats + p.Optimizer + p.EMA }

// Inference is the plan without optimizer and EMA state.
func (p StatePlan) Inference() StatePlan {
	p.Optimizer, p.EMA = 0, 0
	return p
}

// Check returns nil when the plan fits the tensor memory d has free, and
// otherwise one error saying what the state needs, what the device has and
// what would fit (without the EMA, inference only).
func (p StatePlan) Check(d *engine.Device, what string) error {
	capacity, free := d.TensorMemory()
	if p.Total() <= free {
		return nil
	}
	b := engine.FormatBytes
	parts := []string{fmt.Sprintf("parameters %s", b(p.Params)), fmt.Sprintf("gradients %s", b(p.Grads))}
	if p.Optimizer > 0 {
		parts = append(parts, fmt.Sprintf("optimizer state %s", b(p.Optimizer)))
	}
	if p.EMA > 0 {
		parts = append(parts, fmt.Sprintf("EMA %s", b(p.EMA)))
	}
	var fits []string
	if p.EMA > 0 {
		q := p
		q.EMA = 0
		if q.Total() < free {
			fits = append(fits, fmt.Sprintf("training without the EMA (%s, plus activations)", b(q.Total())))
		}
	}
	if inf := p.Inference(); p.Optimizer+p.EMA > 0 && inf.Total() < free {
		fits = append(fits, fmt.Sprintf("inference and evaluation (%s, plus activations)", b(inf.Total())))
	}
	advice := "nothing of this model fits: use a device with more memory or a smaller model"
	if len(fits) > 0 {
		advice = "what fits: " + strings.Join(fits, "; ") + ", or a device with more memory"
	}
	return fmt.Errorf("net: %s of %s needs %s of device memory before any activation (%s), but %s has %s free of %s: %s",
		what, p.Model, b(p.Total()), strings.Join(parts, ", "), d.Info.Name, b(free), b(capacity), advice)
}
