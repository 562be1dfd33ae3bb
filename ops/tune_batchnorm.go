package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// bnTrainForwardTuned is the autotuned training-mode batch-norm forward
// (BatchNormTrainForward): the statistics and the normalize as two
// dispatches ("twopass"), or one workgroup per channel doing both
// ("fused"), eligible whenever the batch binds whole.
var bnTrainForwardTuned = &tunedOp[bnTrainCall]{
	op: "batchnorm_train_forward",
	variants: []variant[bnTrainCall]{
		{name: "twopass", kernels: bnTwoPassKernels, record: recordBNTwoPass},
		{name: "fused", kernels: func(_ *engine.Device, c bnTrainCall) []string { return []string{bnFusedKernel(c)} },
			eligible: bnFusedFits, record: recordBNFused},
	},
	defaultVariant: bnTrainDefault,
	shape: func(c bnTrainCall) string {
		return fmt.Sprintf("n=%d c=%d h=%d w=%d act=%d residual=%v%s", c.g.n, c.g.c, c.g.h, c.g.w, c.act, c.r != nil, bnRunningShape(c))
	},
	scratch: func(d *engine.Device, c bnTrainCall) (bnTrainCall, func(), error) {
		ts, free, err := scratchTensors(d, c.y, c.mean, c.invstd, c.x, c.gamma, c.beta, c.r)
		if err != nil {
			return c, nil, err
		}
		c.y, c.mean, c.invstd, c.x, c.gamma, c.beta, c.r = ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], ts[6]
		if c.run != nil { // timing runs never touch the real running statistics
			rs, freeRun, err := scratchTensors(d, c.run.Mean, c.run.Var)
			if err != nil {
				free()
				return c, nil, err
			}
			run := *c.run
			run.Mean, run.Var = rs[0], rs[1]
			c.run = &run
			return c, func() { freeRun(); free() }, nil
		}
		return c, free, nil
	},
}

func bnTwoPassKernels(_ *engine.Device, c bnTrainCall) []string {
	stats := "batchnorm_stats"
	if c.run != nil {
		stats = "batchnorm_stats_update"
	}
	if c.r != nil {
		return []string{stats, "batchnorm_forward_residual"}
	}
	return []string{stats, "batchnorm_forward"}
}

// bnRunningShape is the shape key's mark of a running update (none
// without, so that earlier cache entries keep their keys).
func bnRunningShape(c bnTrainCall) string {
	if c.run == nil {
		return ""
	}
	return " running=true"
}
