package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// BatchNormRunning is the running-statistics update of a training step
// (BatchNormUpdateRunning's arguments) left to the kernel that finalizes
// the batch statistics: BatchNormStatsUpdate and BatchNormTrainForwardUpdate
// update Mean and Var in place, with BatchNormUpdateRunning's float32
// formula (the same bits), in the same dispatch, one per batch norm fewer.
type BatchNormRunning struct {
	Mean, Var *engine.Tensor // [C], updated in place
	Momentum  float32        // PyTorch's convention, e.g. 0.1
	Count     int            // values per channel in the batch (N*H*W), at least 2
}

// runningCheck checks a running-statistics update of channels like mean
// (the batch mean, [C]) and returns its push fields: momentum and the
// unbiased correction count/(count-1).
func runningCheck(s *engine.Sequence, op string, runMean, runVar, mean, invstd *engine.Tensor, momentum float32, count int) (c int, correction float32, ok bool) {
	if s.Err() != nil {
		return 0, 0, false
	}
	if runMean == nil || len(runMean.Shape) != 1 {
		s.Fail(fmt.Errorf("%s: running mean %v must be [C]", op, runMean))
		return 0, 0, false
	}
	c = runMean.Len()
	for _, a := range []roleTensor{{"running mean", runMean}, {"running var", runVar}, {"mean", mean}, {"invstd", invstd}} {
		if a.t == nil || len(a.t.Shape) != 1 || a.t.Len() != c || a.t.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: %s %v must be float32 [%d] like running mean %v", op, a.role, a.t, c, runMean))
			return 0, 0, false
		}
	}
	if count < 2 {
		s.Fail(fmt.Errorf("%s: count %d: the unbiased variance needs at least 2 values per channel (N*H*W); use eval mode for a single value", op, count))
		return 0, 0, false
	}
	if !(momentum >= 0 && momentum <= 1) {
		s.Fail(fmt.Errorf("%s: momentum %v outside [0, 1] (PyTorch convention: 0.1 by default; TensorFlow's 0.99 is 0.01)", op, momentum))
		return 0, 0, false
	}
	for _, t := range []*engine.Tensor{runMean, runVar} {
		if t == mean || t == invstd {
			s.Fail(fmt.Errorf("%s: running statistic %v is also a batch statistic: use separate tensors", op, t))
			return 0, 0, false
		}
	}
	if runMean == runVar {
		s.Fail(fmt.Errorf("%s: running mean and running var are the same tensor %v", op, runMean))
		return 0, 0, false
	}
	return c, float32(float64(count) / float64(count-1)), true
}

// check checks r for the batch statistics mean and invstd.
func (r *BatchNormRunning) check(s *engine.Sequence, op string, mean, invstd *engine.Tensor) (correction float32, ok bool) {
	_, correction, ok = runningCheck(s, op, r.Mean, r.Var, mean, invstd, r.Momentum, r.Count)
	return correction, ok
}

// BatchNormStatsUpdate records BatchNormStats and, unless run is nil, the
// running-statistics update run describes (BatchNormUpdateRunning with
// eps), in the same dispatch. A batch too large to bind whole takes
// BatchNormStats' split path, whose merge finalizes the statistics, then
// a separate BatchNormUpdateRunning.
func BatchNormStatsUpdate(s *engine.Sequence, mean, invstd, x *engine.Tensor, eps float32, run *BatchNormRunning) {
	batchNormStats(s, "batch norm stats", mean, invstd, x, eps, run)
}

// recordBNStatsUpdate records the batchnorm_stats_update kernel over g
// (checked) with the correction from run's check.
func recordBNStatsUpdate(s *engine.Sequence, g batchnormGeometry, mean, invstd, x *engine.Tensor, eps float32, run *BatchNormRunning, correction float32) {
	k := s.Kernel("batchnorm_stats_update", engine.Spec{ID: 0, Value: batchnormLocal(s)}, g.alignedSpec())
	perChannel(s, k, g.c, g.channelUpdatePush(eps, run.Momentum, correction), x, mean, invstd, run.Mean, run.Var)
}

// channelUpdatePush is channelPush with the running update's fields (the
// push block of the _update kernels).
func (g batchnormGeometry) channelUpdatePush(eps, momentum, correction float32) shaders.BatchnormStatsUpdatePush {
	p := g.channelPush(eps)
	return shaders.BatchnormStatsUpdatePush{N: p.N, C: p.C, Hw: p.Hw, M: p.M, Slots: p.Slots, Div: p.Div, InvDiv: p.InvDiv,
		Eps: p.Eps, Momentum: momentum, Correction: correction}
}
