package net

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/ops"
)

// convKind says which kernels a conv uses.
type convKind int

const (
	fullConv      convKind = iota // k x k, groups 1 (stem, Fused-MBConv)
	pointwiseConv                 // 1x1, stride 1 (expand, project, head): the GEMM path
	depthwiseConv                 // k x k depthwise (MBConv)
)

// convBN is conv -> batch norm -> optional SiLU, the unit every block is
// made of (torchvision's Conv2dNormActivation), with an optional residual
// added last (the last unit of a residual block, see fusion.go).
//
//	x [N,C,H,W] -> z = conv(x) [N,OC,OH,OW] -> y = act(BN(z)) (+ residual) [N,OC,OH,OW]
//
// Folded (fusion.foldBN), the conv's epilogue computes y from its sums
// directly: z, mean and invstd do not exist; scale and shift do.
type convBN struct {
	name   string // torchvision prefix, e.g. "features.2.0.block.0"
	kind   convKind
	stride int
	act    ops.Activation
	weight *Param // [OC,C,K,K] or [C,1,K,K]
	gamma  *Param
	beta   *Param
	runM   *Param
	runV   *Param

	x      *engine.Tensor // input (owned by the producer)
	z      *engine.Tensor // conv output, saved for BN backward
	y      *engine.Tensor // output
	mean   *engine.Tensor // [OC] batch (train) or running (eval) mean
	invstd *engine.Tensor // [OC]

	residual     *engine.Tensor // added to y after the activation, or nil
	folded       bool           // batch norm folded into the conv's epilogue
	trainOnce    bool           // training statistics and normalize in one call (fusion.trainBN)
	foldRunning  bool           // the statistics' kernel updates the running statistics (fusion.bnRunning)
	scale, shift *engine.Tensor // [OC] folded: the batch norm as z*scale + shift
	inScale      *engine.Tensor // pointwise only: [N,C] input scale (squeeze-excite's gate), or nil

	needDX bool // backward produces the gradient of x (not for the stem)
	// weightScratch plans the weight gradient of a full convolution in a
	// training graph (ops.PlanConv2DWeightGradient: the tuned variant and
	// its split-K partial sums); nil otherwise.
	weightScratch *ops.Conv2DWeightScratch

	sync *bnSync // cross-rank batch norm (nil unless GraphConfig.SyncBN)
}

// newConvBN allocates the outputs of a conv+BN unit on input x. needDX says
// whether backward must produce the input's gradient (not for the stem).
func (b *builder) newConvBN(name string, kind convKind, stride int, act ops.Activation, x *engine.Tensor, needDX bool) (*convBN, error) {
	return b.newConvBNResidual(name, kind, stride, act, x, needDX, nil)
}

// newConvBNResidual is newConvBN for a unit whose output also adds
// residual (nil for none), of the output's shape.
func (b *builder) newConvBNResidual(name string, kind convKind, stride int, act ops.Activation, x *engine.Tensor, needDX bool, residual *engine.Tensor) (*convBN, error) {
	c := &convBN{name: name, kind: kind, stride: stride, act: act, x: x, needDX: needDX, residual: residual, folded: b.fusion.foldBN, trainOnce: b.fusion.trainBN, foldRunning: b.fusion.bnRunning}
	var err error
	if c.weight, err = b.param(name + ".0.weight"); err != nil {
		return nil, err
	}
	bn := name + ".1"
	if c.gamma, err = b.param(bn + ".weight"); err != nil {
		return nil, err
	}
	if c.beta, err = b.param(bn + ".bias"); err != nil {
		return nil, err
	}
	if c.runM, err = b.param(bn + ".running_mean"); err != nil {
		return nil, err
	}
	if c.runV, err = b.param(bn + ".running_var"); err != nil {
		return nil, err
	}
	n, h, w := x.Shape[0], x.Shape[2], x.Shape[3]
	oc, k := c.weight.Shape[0], c.weight.Shape[2]
	if kind == depthwiseConv && oc != x.Shape[1] {
		return nil, fmt.Errorf("net: %s: depthwise weight %v does not match input %v", name, c.weight.Shape, x.Shape)
	}
	if kind != depthwiseConv && c.weight.Shape[1] != x.Shape[1] {
		return nil, fmt.Errorf("net: %s: input %v does not match weight %v", name, x.Shape, c.weight.Shape)
	}
	oh, ow := ops.ConvOutSize(h, k, stride), ops.ConvOutSize(w, k, stride)
	if residual != nil && !sameShape(residual.Shape, []int{n, oc, oh, ow}) {
		return nil, fmt.Errorf("net: %s: residual %v does not match the output [%d %d %d %d]", name, residual.Shape, n, oc, oh, ow)
	}
	if c.folded {
		c.y = b.act(name+".y", n, oc, oh, ow)
		c.scale = b.tensor(name+".scale", oc)
		c.shift = b.tensor(name+".shift", oc)
		return c, b.err
	}
	c.z = b.act(name+".z", n, oc, oh, ow)
	c.y = b.act(name+".y", n, oc, oh, ow)
	c.mean = b.tensor(name+".mean", oc)
	c.invstd = b.tensor(name+".invstd", oc)
	c.sync = b.newBNSync(name+".1", oc)
	if kind == fullConv && b.backward {
		c.weightScratch = b.weightScratch(name, x.Shape, c.weight.Shape, stride)
	}
	b.done(c.z) // read only by this unit's batch norm
	return c, b.err
}

// forward records z = conv(x); batch statistics (train) or running
// statistics (eval); y = act(BN(z)) (+ residual); in training without
// cross-rank batch norm (fusion.trainBN), the statistics and y are one
// call. Folded: scale and shift from the running statistics, then y from
// the conv's epilogue.
func (c *convBN) forward(s *engine.Sequence, m *mode) {
	if c.folded {
		c.forwardFolded(s, m)
		return
	}
	switch c.kind {
	case fullConv:
		ops.Conv2DForward(s, c.z, c.x, c.weight.Value, c.stride)
	case pointwiseConv:
		if c.inScale != nil {
			ops.PointwiseForwardScaled(s, c.z, c.x, c.weight.Value, c.inScale)
			break
		}
		ops.PointwiseForward(s, c.z, c.x, c.weight.Value)
	case depthwiseConv:
		ops.DepthwiseForward(s, c.z, c.x, c.weight.Value, c.stride)
	}
	if m.train && c.trainOnce && c.sync == nil {
		ops.BatchNormTrainForwardUpdate(s, c.y, c.mean, c.invstd, c.z, c.gamma.Value, c.beta.Value, c.act, c.residual, m.eps, c.running(m))
		c.updateRunning(s, m)
		return
	}
	if m.train {
		ops.BatchNormStatsUpdate(s, c.mean, c.invstd, c.z, m.eps, c.running(m))
		if c.sync != nil {
			c.syncStats(s, m.eps)
		}
		c.updateRunning(s, m)
	} else {
		ops.BatchNormEvalParams(s, c.mean, c.invstd, c.runM.Value, c.runV.Value, m.eps)
	}
	if c.residual != nil {
		ops.BatchNormForwardResidual(s, c.y, c.z, c.mean, c.invstd, c.gamma.Value, c.beta.Value, c.act, c.residual)
		return
	}
	ops.BatchNormForward(s, c.y, c.z, c.mean, c.invstd, c.gamma.Value, c.beta.Value, c.act)
}

// running is the running-statistics update left to the kernel computing
// the batch statistics (fusion.bnRunning), or nil: when m asks for none,
// when fusion does not, or under cross-rank batch norm, whose statistics
// are finalized after the all-reduce (syncStats).
func (c *convBN) running(m *mode) *ops.BatchNormRunning {
	if !m.updateRunning || !c.foldRunning || c.sync != nil {
		return nil
	}
	return &ops.BatchNormRunning{Mean: c.runM.Value, Var: c.runV.Value, Momentum: m.momentum, Count: c.z.Shape[0] * c.z.Shape[2] * c.z.Shape[3]}
}

// updateRunning records the running statistics' update from this step's
// batch statistics, when m asks for it and the statistics' kernel did not
// (running).
func (c *convBN) updateRunning(s *engine.Sequence, m *mode) {
	if !m.updateRunning || c.running(m) != nil {
		return
	}
	n := c.z.Shape[0] * c.z.Shape[2] * c.z.Shape[3]
	if c.sync != nil {
		n *= c.sync.cfg.Ranks // the global batch's values per channel
	}
	ops.BatchNormUpdateRunning(s, c.runM.Value, c.runV.Value, c.mean, c.invstd, m.eps, m.momentum, n)
}

// forwardFolded records the folded unit: scale and shift from the running
// statistics, then the conv with the epilogue y = act(z*scale + shift)
// (+ residual).
func (c *convBN) forwardFolded(s *engine.Sequence, m *mode) {
	if m.train {
		s.Fail(fmt.Errorf("net: %s: batch norm is folded into the conv, which needs running statistics (eval mode)", c.name))
		return
	}
	ops.BatchNormFold(s, c.scale, c.shift, c.runM.Value, c.runV.Value, c.gamma.Value, c.beta.Value, m.eps)
	ep := &ops.Epilogue{Scale: c.scale, Shift: c.shift, Act: c.act, Residual: c.residual, InputScale: c.inScale}
	switch c.kind {
	case fullConv:
		ops.Conv2DForwardFused(s, c.y, c.x, c.weight.Value, c.stride, ep)
	case pointwiseConv:
		ops.PointwiseForwardFused(s, c.y, c.x, c.weight.Value, ep)
	case depthwiseConv:
		ops.DepthwiseForwardFused(s, c.y, c.x, c.weight.Value, c.stride, ep)
	}
}

// backward records dz, dgamma, dbeta from dy (the gradient of y, left to
// the caller to release); then dW and, when needed, dx, which it returns
// (nil for the stem; with an input scale, the gradient of the scaled
// input). Gradient tensors come from b's pool.
func (c *convBN) backward(s *engine.Sequence, b *builder, dy *engine.Tensor) *engine.Tensor {
	return c.backwardAdd(s, b, dy, nil)
}

// backwardAdd is backward whose dx also adds addend (nil: none), a tensor
// of x's shape, in the data-gradient kernel (fusion.residualBackward: the
// gradient a residual block's input gets through its skip connection).
// Full and pointwise convs only; needDX must be set.
func (c *convBN) backwardAdd(s *engine.Sequence, b *builder, dy, addend *engine.Tensor) *engine.Tensor {
	if addend != nil && (!c.needDX || c.kind == depthwiseConv) {
		s.Fail(fmt.Errorf("net: %s: a data gradient with an addend needs a full or pointwise conv that produces dx", c.name))
		return nil
	}
	dz := b.grad(c.name+".dz", c.z.Shape...)
	var dx *engine.Tensor
	if c.needDX {
		dx = b.grad(c.name+".dx", c.x.Shape...)
	}
	if b.err != nil {
		s.Fail(b.err)
		return dx
	}
	ops.BatchNormBackward(s, dz, c.gamma.Grad, c.beta.Grad, dy, c.z, c.mean, c.invstd, c.gamma.Value, c.beta.Value, c.act)
	if c.sync != nil {
		dz = c.syncBackward(s, b, dz)
	}
	switch c.kind {
	case fullConv:
		if c.weightScratch != nil {
			ops.Conv2DBackwardWeightChunked(s, c.weight.Grad, c.x, dz, c.stride, c.weightScratch)
		} else {
			ops.Conv2DBackwardWeight(s, c.weight.Grad, c.x, dz, c.stride)
		}
		if addend != nil {
			ops.Conv2DBackwardDataAdd(s, dx, dz, c.weight.Value, c.stride, addend)
		} else if dx != nil {
			ops.Conv2DBackwardData(s, dx, dz, c.weight.Value, c.stride)
		}
	case pointwiseConv:
		if c.inScale != nil {
			ops.PointwiseBackwardWeightScaled(s, c.weight.Grad, c.x, dz, c.inScale)
		} else {
			ops.PointwiseBackwardWeight(s, c.weight.Grad, c.x, dz)
		}
		if addend != nil {
			ops.PointwiseBackwardDataAdd(s, dx, dz, c.weight.Value, addend)
		} else if dx != nil {
			ops.PointwiseBackwardData(s, dx, dz, c.weight.Value)
		}
	case depthwiseConv:
		ops.DepthwiseBackwardWeight(s, c.weight.Grad, c.x, dz, c.stride)
		if dx != nil {
			ops.DepthwiseBackwardData(s, dx, dz, c.weight.Value, c.stride)
		}
	}
	b.release(dz)
	return dx
}
