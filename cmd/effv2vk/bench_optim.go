package main

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/optim"
)

// benchOptimParams is EfficientNetV2-S's parameter count (torchvision, 1000
// classes): the optimizer rows update that many.
const benchOptimParams = 21_458_488

// The optimizer and EMA rows of `effv2vk bench ops` (family "optim"): one
// update of EfficientNetV2-S's parameters, as two groups (98% weight-decayed,
// as net.Store lays them out). Work counts bytes: every element's
// parameter, gradient and state read once, parameter and state written once
// (the EMA: live read, average read and written).
func init() {
	for _, c := range []struct {
		name  string
		slots int
	}{{"rmsprop", 2}, {"sgd", 1}, {"adamw", 2}} {
		ops.RegisterBench(ops.BenchCase{
			Name: fmt.Sprintf("%s 21.5M", c.name), Op: "optim", Shape: fmt.Sprint([]int{benchOptimParams}), Unit: ops.GBs,
			Work: 4 * float64(benchOptimParams) * float64(3+2*c.slots),
			Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
				groups, free, err := benchOptimGroups(d)
				if err != nil {
					return nil, err
				}
				opt, err := optim.New(c.name, d, groups, optim.DefaultConfig())
				if err == nil {
					err = opt.SetStep(0, 1e-3)
				}
				if err != nil {
					if opt != nil {
						opt.Free()
					}
					free()
					return nil, err
				}
				opt.Record(s)
				return func() { opt.Free(); free() }, nil
			},
		})
	}
	ops.RegisterBench(ops.BenchCase{
		Name: "ema 21.5M", Op: "optim", Shape: fmt.Sprint([]int{benchOptimParams}), Unit: ops.GBs,
		Work: 4 * float64(benchOptimParams) * 3,
		Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
			params, err := ops.RandomTensor(d, "params", 1, benchOptimParams)
			if err != nil {
				return nil, err
			}
			ema, err := optim.NewEMA(d, params, nil, 0.9999)
			if err != nil {
				params.Free()
				return nil, err
			}
			ema.Record(s)
			return func() { ema.Free(); params.Free() }, nil
		},
	})
}

// benchOptimGroups makes random parameters and gradients of
// EfficientNetV2-S's size, split into a weight-decayed and an exempt group.
func benchOptimGroups(d *engine.Device) ([]optim.Group, func(), error) {
	params, err := ops.RandomTensor(d, "params", 1, benchOptimParams)
	if err != nil {
		return nil, nil, err
	}
	grads, err := ops.RandomTensor(d, "grads", 2, benchOptimParams)
	if err != nil {
		params.Free()
		return nil, nil, err
	}
	groups, err := optim.SplitDecay(d, params, grads, benchOptimParams/50*49+3, 1e-5)
	if err != nil {
		params.Free()
		grads.Free()
		return nil, nil, err
	}
	return groups, func() { optim.FreeGroups(groups); params.Free(); grads.Free() }, nil
}
