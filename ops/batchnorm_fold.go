package ops

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// BatchNormFold records eval-mode batch norm as the affine map of an
// Epilogue:
//
//	scale[c] = gamma[c] / sqrt(runVar[c] + eps)
//	shift[c] = beta[c] - runMean[c] * scale[c]
//
// All tensors are float32 [C]; scale and shift are overwritten.
func BatchNormFold(s *engine.Sequence, scale, shift, runMean, runVar, gamma, beta *engine.Tensor, eps float32) {
	const op = "batch norm fold"
	c, ok := runningStatsCheck(s, op, runMean, eps, roleTensor{"scale", scale}, roleTensor{"shift", shift}, roleTensor{"running mean", runMean},
		roleTensor{"running var", runVar}, roleTensor{"gamma", gamma}, roleTensor{"beta", beta})
	if !ok {
		return
	}
	push := shaders.BatchnormFoldPush{C: uint32(c), Eps: eps}
	s.Dispatch1D(s.Kernel("batchnorm_fold"), c, push, scale, shift, runMean, runVar, gamma, beta)
}
