package ops

import (
	"fmt"

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
	if s.Err() != nil {
		return
	}
	if runMean == nil || len(runMean.Shape) != 1 {
		s.Fail(fmt.Errorf("%s: running mean %v must be [C]", op, runMean))
		return
	}
	c := runMean.Len()
	for _, a := range []roleTensor{{"scale", scale}, {"shift", shift}, {"running mean", runMean}, {"running var", runVar}, {"gamma", gamma}, {"beta", beta}} {
		if a.t == nil || len(a.t.Shape) != 1 || a.t.Len() != c || a.t.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: %s %v must be float32 [%d] like running mean %v", op, a.role, a.t, c, runMean))
			return
		}
	}
	if !(eps >= 0) {
		s.Fail(fmt.Errorf("%s: eps %v must be non-negative", op, eps))
		return
	}
	push := shaders.BatchnormFoldPush{C: uint32(c), Eps: eps}
	s.Dispatch1D(s.Kernel("batchnorm_fold"), c, push, scale, shift, runMean, runVar, gamma, beta)
}
