package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// Batch normalization 2-D over NCHW float32 tensors, statistics per channel
// over the M = N*H*W values of the channel, in PyTorch's conventions.
//
// Saved state between forward and backward: mean and invstd, both [C].
// The biased batch variance is not kept: BatchNormUpdateRunning recovers it
// as 1/invstd^2 - eps (clamped at 0), which costs a relative error of a few
// float32 ulps of var+eps.

// batchnormChannelPush is the push block of the per-channel kernels
// (batchnorm_stats and batchnorm_backward declare the same block).
type batchnormChannelPush = shaders.BatchnormStatsPush

// batchnormGeometry is what the batch-norm operations read from x.
type batchnormGeometry struct {
	n, c, h, w int
}

func (g batchnormGeometry) hw() int { return g.h * g.w }

// aligned reports whether every texel (4 values) of an image lies in one
// channel, i.e. H*W is a multiple of 4.
func (g batchnormGeometry) aligned() bool { return g.hw()%4 == 0 }

// alignedSpec is the kernels' specialization constant "aligned".
func (g batchnormGeometry) alignedSpec() engine.Spec {
	if g.aligned() {
		return engine.Spec{ID: 3, Value: 1}
	}
	return engine.Spec{ID: 3, Value: 0}
}

// channelPush is the push block that walks one channel in slots of 4
// values (see shaders/batchnorm.comp).
func (g batchnormGeometry) channelPush(eps float32) batchnormChannelPush {
	hw := g.hw()
	m := g.n * hw
	p := batchnormChannelPush{N: uint32(g.n), C: uint32(g.c), Hw: uint32(hw), M: uint32(m),
		Slots: uint32(ceilDiv(m, 4)), Div: uint32(hw), Eps: eps}
	if g.aligned() {
		p.Div = uint32(hw / 4)
	}
	p.InvDiv = 1 / float32(p.Div)
	return p
}

// roleTensor is a tensor argument and the role it plays, for messages.
type roleTensor struct {
	role string
	t    *engine.Tensor
}

// batchnormCheck reads the geometry from x and checks that every other
// tensor is float32, the image-shaped ones like x and the per-channel ones
// [C].
func batchnormCheck(s *engine.Sequence, op string, x *engine.Tensor, images, channels []roleTensor) (batchnormGeometry, bool) {
	var g batchnormGeometry
	if s.Err() != nil {
		return g, false
	}
	n, c, h, w, ok := shape4(s, op, x)
	if !ok {
		return g, false
	}
	g = batchnormGeometry{n, c, h, w}
	if x.DType != engine.Float32 {
		s.Fail(fmt.Errorf("%s: %v is %s, want float32", op, x, x.DType))
		return g, false
	}
	for _, a := range images {
		role, t := a.role, a.t
		if !wantShape(s, op, role, t, n, c, h, w) {
			return g, false
		}
		if t.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: %s %v is %s, want float32", op, role, t, t.DType))
			return g, false
		}
	}
	for _, a := range channels {
		role, t := a.role, a.t
		if t == nil || t.Len() != c || len(t.Shape) != 1 {
			s.Fail(fmt.Errorf("%s: %s %v does not fit x %v: want [%d]", op, role, t, x, c))
			return g, false
		}
		if t.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: %s %v is %s, want float32", op, role, t, t.DType))
			return g, false
		}
	}
	return g, true
}

// batchnormLocal is the local size of the per-channel kernels: one subgroup
// on a CPU driver (a workgroup is one SIMD loop there), 256 on GPUs, or the
// largest power of two within the device's limit when that is lower. It
// must be a power of two (the kernels reduce in a halving tree).
// GPUChoicesEnv makes a CPU driver take the GPU size.
func batchnormLocal(s *engine.Sequence) uint32 { return batchnormLocalOf(s.Device()) }

// perChannel records kernel k with one workgroup per channel.
func perChannel(s *engine.Sequence, k *engine.Kernel, c int, push any, args ...*engine.Tensor) {
	if s.Err() != nil {
		return
	}
	grid, err := s.Device().FoldGroups(c)
	if err != nil {
		s.Fail(fmt.Errorf("%s over %d channels: %w", k.Name(), c, err))
		return
	}
	s.Dispatch(k, grid, push, args...)
}

// BatchNormStats records the training-mode batch statistics of x [N,C,H,W]
// into mean and invstd ([C] each):
//
//	mean[c]   = (1/M) sum_{n,h,w} x[n,c,h,w]                  M = N*H*W
//	var[c]    = (1/M) sum_{n,h,w} (x[n,c,h,w] - mean[c])^2    (biased)
//	invstd[c] = 1 / sqrt(var[c] + eps)
//
// The variance is numerically stable: values are shifted by the channel's
// first value (so x = 1000 + noise keeps its digits), batches of 16 are
// centered on their own mean and merged with Chan's formula, never
// E[x^2]-E[x]^2. It is deterministic (fixed reduction order, no atomics).
// One workgroup per channel (256 invocations on GPUs, one subgroup on CPU
// drivers); a channel is read once.
func BatchNormStats(s *engine.Sequence, mean, invstd, x *engine.Tensor, eps float32) {
	batchNormStats(s, "batch norm stats", mean, invstd, x, eps, nil)
}

// batchNormStats records BatchNormStats, and the running update run
// describes unless it is nil (BatchNormStatsUpdate).
func batchNormStats(s *engine.Sequence, op string, mean, invstd, x *engine.Tensor, eps float32, run *BatchNormRunning) {
	g, ok := batchnormCheck(s, op, x, nil, []roleTensor{{"mean", mean}, {"invstd", invstd}})
	if !ok {
		return
	}
	if !(eps >= 0) {
		s.Fail(fmt.Errorf("%s: eps %v must be non-negative (PyTorch's default is 1e-5, EfficientNetV2's 1e-3)", op, eps))
		return
	}
	var correction float32
	if run != nil {
		if correction, ok = run.check(s, op, mean, invstd); !ok {
			return
		}
	}
	if batchNormStatsSplit(s, op, mean, invstd, x, g, eps) {
		if run != nil { // the merge kernel finalized the statistics
			BatchNormUpdateRunning(s, run.Mean, run.Var, mean, invstd, eps, run.Momentum, run.Count)
		}
		return
	}
	if run != nil {
		recordBNStatsUpdate(s, g, mean, invstd, x, eps, run, correction)
		return
	}
	k := s.Kernel("batchnorm_stats", engine.Spec{ID: 0, Value: batchnormLocal(s)}, g.alignedSpec())
	perChannel(s, k, g.c, g.channelPush(eps), x, mean, invstd)
}

// BatchNormUpdateRunning records the running-statistics update after a
// training step, in place, in PyTorch's convention (momentum m, e.g. 0.1;
// TensorFlow's 0.99 is m = 0.01):
//
//	var[c]     = max(1/invstd[c]^2 - eps, 0)          (biased batch variance)
//	runMean[c] = (1-m) * runMean[c] + m * mean[c]
//	runVar[c]  = (1-m) * runVar[c]  + m * var[c] * count/(count-1)
//
// count is the number of values per channel, N*H*W, at least 2; eps must be
// the one given to BatchNormStats.
func BatchNormUpdateRunning(s *engine.Sequence, runMean, runVar, mean, invstd *engine.Tensor, eps, momentum float32, count int) {
	const op = "batch norm update running"
	c, correction, ok := runningCheck(s, op, runMean, runVar, mean, invstd, momentum, count)
	if !ok {
		return
	}
	push := shaders.BatchnormUpdateRunningPush{C: uint32(c), Eps: eps, Momentum: momentum, Correction: correction}
	s.Dispatch1D(s.Kernel("batchnorm_update_running", elementwiseLocalSpec(s.Device())), c, push, runMean, runVar, mean, invstd)
}

// BatchNormEvalParams records the evaluation-mode statistics, so that
// BatchNormForward with them is batch norm in eval mode:
//
//	mean[c]   = runMean[c]
//	invstd[c] = 1 / sqrt(runVar[c] + eps)
func BatchNormEvalParams(s *engine.Sequence, mean, invstd, runMean, runVar *engine.Tensor, eps float32) {
	const op = "batch norm eval params"
	c, ok := runningStatsCheck(s, op, runMean, eps, roleTensor{"mean", mean}, roleTensor{"invstd", invstd}, roleTensor{"running var", runVar})
	if !ok {
		return
	}
	push := shaders.BatchnormEvalParamsPush{C: uint32(c), Eps: eps}
	s.Dispatch1D(s.Kernel("batchnorm_eval_params", elementwiseLocalSpec(s.Device())), c, push, mean, invstd, runMean, runVar)
}

// BatchNormForward records the normalization with the given statistics
// (batch ones from BatchNormStats in training, running ones from
// BatchNormEvalParams in evaluation) and a fused activation:
//
//	y[n,c,h,w] = act(gamma[c] * (x[n,c,h,w] - mean[c]) * invstd[c] + beta[c])
//
// x and y are [N,C,H,W] (different tensors), the others [C]. Each
// invocation normalizes up to 4 texels (16 values) of one channel when H*W
// is a multiple of 4, else one texel.
func BatchNormForward(s *engine.Sequence, y, x, mean, invstd, gamma, beta *engine.Tensor, act Activation) {
	batchnormForward(s, y, x, mean, invstd, gamma, beta, act, nil)
}

// BatchNormForwardResidual records BatchNormForward followed by the sum
// with a residual r, in one pass (the last unit of a residual block):
//
//	y[n,c,h,w] = act(gamma[c] * (x[n,c,h,w] - mean[c]) * invstd[c] + beta[c]) + r[n,c,h,w]
//
// r has x's shape and may be neither x nor y. The gradient of y reaches the
// batch norm (BatchNormBackward) and r unchanged, as with a separate Add.
func BatchNormForwardResidual(s *engine.Sequence, y, x, mean, invstd, gamma, beta *engine.Tensor, act Activation, r *engine.Tensor) {
	if s.Err() == nil && r == nil {
		s.Fail(fmt.Errorf("batch norm forward residual: missing residual: use BatchNormForward"))
		return
	}
	batchnormForward(s, y, x, mean, invstd, gamma, beta, act, r)
}

// batchnormForwardCheck checks the tensors of a batch-norm forward (y and
// the residual r, unless nil, shaped like x; per-channel mean, invstd,
// gamma, beta) and its activation, failing s with an error naming op when
// they are wrong.
func batchnormForwardCheck(s *engine.Sequence, op string, y, x, mean, invstd, gamma, beta *engine.Tensor, act Activation, r *engine.Tensor) (batchnormGeometry, bool) {
	images := []roleTensor{{"y", y}}
	if r != nil {
		images = append(images, roleTensor{"residual", r})
	}
	g, ok := batchnormCheck(s, op, x, images,
		[]roleTensor{{"mean", mean}, {"invstd", invstd}, {"gamma", gamma}, {"beta", beta}})
	if !ok {
		return g, false
	}
	if !act.valid() {
		s.Fail(fmt.Errorf("%s: unknown activation %v: use ActNone or ActSiLU", op, act))
		return g, false
	}
	return g, true
}

// batchnormForward records BatchNormForward, adding the residual r unless
// it is nil.
func batchnormForward(s *engine.Sequence, y, x, mean, invstd, gamma, beta *engine.Tensor, act Activation, r *engine.Tensor) {
	const op = "batch norm forward"
	g, ok := batchnormForwardCheck(s, op, y, x, mean, invstd, gamma, beta, act, r)
	if !ok {
		return
	}
	if y == x {
		s.Fail(fmt.Errorf("%s: y %v is also x: use a separate output tensor", op, y))
		return
	}
	batch := []*engine.Tensor{y, x}
	if r != nil {
		batch = append(batch, r)
	}
	if splitBatch(s, op, func(part batchPart, _ int) {
		var rp *engine.Tensor
		if r != nil {
			rp = part(r)
		}
		batchnormForward(s, part(y), part(x), mean, invstd, gamma, beta, act, rp)
	}, batch...) {
		return
	}
	total := g.n * g.c * g.hw()
	push := shaders.BatchnormForwardPush{Total: uint32(total), C: uint32(g.c), Div: uint32(g.hw()), InvC: 1 / float32(g.c)}
	texels := 1
	if hw4 := g.hw() / 4; g.aligned() {
		for _, r := range []int{4, 2} {
			if hw4%r == 0 {
				texels = r
				break
			}
		}
		push.Div = uint32(hw4 / texels)
	}
	push.InvDiv = 1 / float32(push.Div)
	name, args := "batchnorm_forward", []*engine.Tensor{x, mean, invstd, gamma, beta, y, y}
	if r != nil {
		name, args = "batchnorm_forward_residual", append(args, r)
	}
	k := s.Kernel(name, elementwiseLocalSpec(s.Device()), engine.Spec{ID: 1, Value: uint32(act)}, engine.Spec{ID: 2, Value: uint32(texels)}, g.alignedSpec())
	s.Dispatch1D(k, ceilDiv(total, 4*texels), push, args...)
}

// BatchNormBackward records the training-mode gradient of
// act(BatchNormForward) with batch statistics mean and invstd. With ActSiLU,
// dy is the gradient of the activation's output and the kernel recomputes
// z = gamma*xhat + beta to apply SiLU'; with ActNone, dz = dy:
//
//	xhat       = (x - mean[c]) * invstd[c]
//	dz         = dy * sig(z) * (1 + z*(1 - sig(z)))    (ActSiLU; else dz = dy)
//	dbeta[c]   = sum_{n,h,w} dz
//	dgamma[c]  = sum_{n,h,w} dz * xhat
//	dx         = gamma[c]*invstd[c] * (dz - dbeta[c]/M - xhat*dgamma[c]/M)
//
// dx, dy and x are [N,C,H,W]; the rest [C]. All outputs are overwritten.
// One workgroup per channel: it reduces in a fixed order (deterministic),
// then writes dx.
func BatchNormBackward(s *engine.Sequence, dx, dgamma, dbeta, dy, x, mean, invstd, gamma, beta *engine.Tensor, act Activation) {
	const op = "batch norm backward"
	g, ok := batchnormCheck(s, op, x, []roleTensor{{"dx", dx}, {"dy", dy}},
		[]roleTensor{{"dgamma", dgamma}, {"dbeta", dbeta}, {"mean", mean}, {"invstd", invstd}, {"gamma", gamma}, {"beta", beta}})
	if !ok {
		return
	}
	if !act.valid() {
		s.Fail(fmt.Errorf("%s: unknown activation %v: use ActNone or ActSiLU", op, act))
		return
	}
	for _, in := range []*engine.Tensor{dy, x, mean, invstd, gamma, beta} {
		for _, out := range []*engine.Tensor{dx, dgamma, dbeta} {
			if in == out {
				s.Fail(fmt.Errorf("%s: output %v is also an input: use separate tensors", op, out))
				return
			}
		}
	}
	if batchNormBackwardSplit(s, op, dx, dgamma, dbeta, dy, x, mean, invstd, gamma, beta, g, act) {
		return
	}
	k := s.Kernel("batchnorm_backward", engine.Spec{ID: 0, Value: batchnormLocal(s)}, engine.Spec{ID: 1, Value: uint32(act)}, g.alignedSpec())
	perChannel(s, k, g.c, shaders.BatchnormBackwardPush(g.channelPush(0)), x, dy, mean, invstd, gamma, beta, dx, dx, dgamma, dbeta)
}

// runningStatsCheck checks the per-channel tensors of an operation on the
// running statistics: runMean [C] and each of others float32 [C], eps
// non-negative. It returns C, or records an error in s.
func runningStatsCheck(s *engine.Sequence, op string, runMean *engine.Tensor, eps float32, others ...roleTensor) (int, bool) {
	if s.Err() != nil {
		return 0, false
	}
	if runMean == nil || len(runMean.Shape) != 1 {
		s.Fail(fmt.Errorf("%s: running mean %v must be [C]", op, runMean))
		return 0, false
	}
	c := runMean.Len()
	for _, a := range others {
		if a.t == nil || len(a.t.Shape) != 1 || a.t.Len() != c || a.t.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: %s %v must be float32 [%d] like running mean %v", op, a.role, a.t, c, runMean))
			return 0, false
		}
	}
	if !(eps >= 0) {
		s.Fail(fmt.Errorf("%s: eps %v must be non-negative", op, eps))
		return 0, false
	}
	return c, true
}
