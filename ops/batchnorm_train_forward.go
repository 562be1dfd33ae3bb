package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// BatchNormTrainForward records training-mode batch norm: the batch
// statistics of x into mean and invstd (as BatchNormStats) and
//
//	y[n,c,h,w] = act(gamma[c] * (x[n,c,h,w] - mean[c]) * invstd[c] + beta[c]) (+ r[n,c,h,w])
//
// as BatchNormForward (BatchNormForwardResidual when r is not nil). Both
// ways give the same bits: either the two passes, or one dispatch
// (batchnorm_train_forward) whose workgroup per channel computes the
// statistics and then normalizes the channel's values while they are still
// in the cache. The autotuner picks between them per shape
// ("batchnorm_train_forward": "twopass", "fused"); the built-in choice is
// "fused" on CPU drivers for channels of at most bnFusedChannelBytes, else
// "twopass" (a GPU runs the normalize over far more workgroups than C).
// A batch too large to bind whole always takes the two passes, which split
// it (see batch_split_batchnorm.go).
func BatchNormTrainForward(s *engine.Sequence, y, mean, invstd, x, gamma, beta *engine.Tensor, act Activation, r *engine.Tensor, eps float32) {
	BatchNormTrainForwardUpdate(s, y, mean, invstd, x, gamma, beta, act, r, eps, nil)
}

// BatchNormTrainForwardUpdate records BatchNormTrainForward and, unless run
// is nil, the running-statistics update run describes
// (BatchNormUpdateRunning with eps) in the dispatch that computes the
// statistics: batchnorm_train_forward_update (fused) or
// batchnorm_stats_update (two passes). The running statistics get the
// bits BatchNormUpdateRunning would write. A batch too large to bind whole
// keeps the separate update (see BatchNormStatsUpdate).
func BatchNormTrainForwardUpdate(s *engine.Sequence, y, mean, invstd, x, gamma, beta *engine.Tensor, act Activation, r *engine.Tensor, eps float32, run *BatchNormRunning) {
	const op = "batch norm train forward"
	g, ok := batchnormForwardCheck(s, op, y, x, mean, invstd, gamma, beta, act, r)
	if !ok {
		return
	}
	if !(eps >= 0) {
		s.Fail(fmt.Errorf("%s: eps %v must be non-negative (PyTorch's default is 1e-5, EfficientNetV2's 1e-3)", op, eps))
		return
	}
	if y == x || (r != nil && (r == x || r == y)) {
		s.Fail(fmt.Errorf("%s: y %v, x %v and residual %v must be separate tensors", op, y, x, r))
		return
	}
	c := bnTrainCall{g: g, y: y, mean: mean, invstd: invstd, x: x, gamma: gamma, beta: beta, r: r, act: act, eps: eps, run: run}
	if run != nil {
		if c.correction, ok = run.check(s, op, mean, invstd); !ok {
			return
		}
		for _, t := range []*engine.Tensor{run.Mean, run.Var} {
			if t == y || t == x || t == r || t == gamma || t == beta {
				s.Fail(fmt.Errorf("%s: running statistic %v is also an argument of the forward: use separate tensors", op, t))
				return
			}
		}
	}
	if !bnFusedFits(s.Device(), c) {
		recordBNTwoPass(s, c)
		return
	}
	bnTrainForwardTuned.record(s, c)
}

// bnTrainCall is one training-mode batch-norm forward (BatchNormTrainForward's
// arguments, checked, and x's geometry).
type bnTrainCall struct {
	g                                  batchnormGeometry
	y, mean, invstd, x, gamma, beta, r *engine.Tensor
	act                                Activation
	eps                                float32
	run                                *BatchNormRunning // nil: no running update
	correction                         float32           // run's count/(count-1)
}

// bnFusedChannelBytes is the largest channel (N*H*W float32 values) the
// fused kernel takes by default on a CPU driver: its second read must find
// the channel in the cache. The largest channel of EfficientNetV2-S at
// batch 8, 128x128 (the stem, [8,24,64,64]) is 128 KiB.
const bnFusedChannelBytes = 1 << 20

// bnFusedFits reports whether the fused kernel can record c on d: every
// image-shaped tensor binds whole (no batch split).
func bnFusedFits(d *engine.Device, c bnTrainCall) bool {
	limit := d.MaxBindingBytes()
	for _, t := range []*engine.Tensor{c.x, c.y, c.r} {
		if t != nil && t.Bytes() > limit {
			return false
		}
	}
	return true
}

// bnTrainDefault is the built-in variant on d for c (see
// BatchNormTrainForward).
func bnTrainDefault(d *engine.Device, c bnTrainCall) string {
	if cpuShaped(d) && 4*c.g.n*c.g.hw() <= bnFusedChannelBytes {
		return "fused"
	}
	return "twopass"
}

// recordBNTwoPass records c as BatchNormStats (BatchNormStatsUpdate with
// c's running update), then BatchNormForward (or its residual form).
func recordBNTwoPass(s *engine.Sequence, c bnTrainCall) {
	BatchNormStatsUpdate(s, c.mean, c.invstd, c.x, c.eps, c.run)
	batchnormForward(s, c.y, c.x, c.mean, c.invstd, c.gamma, c.beta, c.act, c.r)
}

// bnFusedKernel is the fused kernel's name for c.
func bnFusedKernel(c bnTrainCall) string {
	name := "batchnorm_train_forward"
	if c.r != nil {
		name += "_residual"
	}
	if c.run != nil {
		name += "_update"
	}
	return name
}

// recordBNFused records c in one dispatch, one workgroup per channel.
func recordBNFused(s *engine.Sequence, c bnTrainCall) {
	k := s.Kernel(bnFusedKernel(c), engine.Spec{ID: 0, Value: batchnormLocal(s)}, engine.Spec{ID: 1, Value: uint32(c.act)}, c.g.alignedSpec())
	args := []*engine.Tensor{c.x, c.gamma, c.beta, c.mean, c.invstd, c.y, c.y}
	if c.r != nil {
		args = append(args, c.r)
	}
	if c.run != nil {
		args = append(args, c.run.Mean, c.run.Var)
		perChannel(s, k, c.g.c, c.g.channelUpdatePush(c.eps, c.run.Momentum, c.correction), args...)
		return
	}
	perChannel(s, k, c.g.c, c.g.channelPush(c.eps), args...)
}
