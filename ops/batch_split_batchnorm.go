package ops

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// Batch norm under a batch split (see batch_split.go). Its statistics and
// its backward sums run over the whole batch, so the split changes their
// order of addition: results agree with the unsplit kernels to float32
// rounding, not bitwise.

// batchNormStatsSplit records BatchNormStats over slices of x when x is too
// large to bind whole: each slice's mean and 1/sqrt(biased variance) (eps
// 0) into scratch rows, then per channel their merge (Chan's formula, in
// slice order) into mean and invstd with eps. It reports whether it took
// the operation over (see splitBatch).
func batchNormStatsSplit(s *engine.Sequence, op string, mean, invstd, x *engine.Tensor, g batchnormGeometry, eps float32) bool {
	b, failed := planBatchSplit(s, op, x)
	if b == nil {
		return failed
	}
	means, invstds := b.partials(mean), b.partials(invstd)
	b.each(func(k, _ int, part batchPart) {
		BatchNormStats(s, means.row(k), invstds.row(k), part(x), 0)
	})
	if s.Err() != nil {
		return true
	}
	push := shaders.BatchnormSplitMergeStatsPush{C: uint32(g.c), Slices: uint32(b.slices()), Stride: uint32(means.stride),
		N: uint32(b.n), Per: uint32(b.per), Hw: uint32(g.hw()), Eps: eps}
	s.Dispatch1D(s.Kernel("batchnorm_split_merge_stats"), g.c, push, mean, invstd, means.t, invstds.t)
	return true
}

// batchNormBackwardSplit records BatchNormBackward over slices when x, dy
// or dx is too large to bind whole: the per-slice sums of dz and dz*xhat
// (the batch-norm backward kernel over each slice, whose dx is discarded)
// added in slice order into dbeta and dgamma, then dx slice by slice from
// those whole-batch sums. It reports whether it took the operation over.
func batchNormBackwardSplit(s *engine.Sequence, op string, dx, dgamma, dbeta, dy, x, mean, invstd, gamma, beta *engine.Tensor, g batchnormGeometry, act Activation) bool {
	took := splitBatchSum(s, op, []*engine.Tensor{dgamma, dbeta}, func(part batchPart, sums []*engine.Tensor) {
		BatchNormBackward(s, part(dx), sums[0], sums[1], part(dy), part(x), mean, invstd, gamma, beta, act)
	}, x, dy, dx)
	if !took || s.Err() != nil {
		return took
	}
	b, _ := planBatchSplit(s, op, x, dy, dx)
	k := s.Kernel("batchnorm_split_backward_dx", engine.Spec{ID: 0, Value: uint32(act)})
	m := float32(g.n * g.hw())
	b.each(func(_, _ int, part batchPart) {
		xs := part(x)
		n := xs.Len()
		push := shaders.BatchnormSplitBackwardDxPush{Total: uint32(n), C: uint32(g.c), Hw: uint32(g.hw()), M: m}
		s.Dispatch1D(k, n, push, part(dx), xs, part(dy), mean, invstd, gamma, beta, dgamma, dbeta)
	})
	return true
}
