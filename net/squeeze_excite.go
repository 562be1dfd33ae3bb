package net

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/ops"
)

// squeezeExcite is torchvision's SqueezeExcitation on x [N,C,H,W]:
//
//	pooled = mean_hw(x) [N,C]; s1 = fc1(pooled) [N,Q]; a1 = SiLU(s1)
//	s2 = fc2(a1) [N,C]; g = sigmoid(s2); y = x * g[n,c]
//
// With scaleInNext (fusion.seInProj), the product y is left to the next
// conv, which scales its input by g as it reads it: y is not allocated, and
// g stays live until that conv is built (the block releases it). backward
// then takes the gradient of that conv's scaled input as dy. With gate
// (fusion.seGate), fc1 through the sigmoid is one dispatch
// (ops.SqueezeExciteMLPForward) and s2 is not allocated.
type squeezeExcite struct {
	fc1w, fc1b, fc2w, fc2b *Param
	scaleInNext, gate      bool

	x                     *engine.Tensor
	pooled, s1, a1, s2, g *engine.Tensor
	y                     *engine.Tensor
	dg, ds2, da1, ds1, dp *engine.Tensor
	dxScale, dxPool, dx   *engine.Tensor
}

func (b *builder) newSqueezeExcite(prefix string, x *engine.Tensor, scaleInNext bool) (*squeezeExcite, error) {
	se := &squeezeExcite{x: x, scaleInNext: scaleInNext, gate: b.fusion.seGate}
	var err error
	for _, p := range []struct {
		dst  **Param
		name string
	}{{&se.fc1w, ".fc1.weight"}, {&se.fc1b, ".fc1.bias"}, {&se.fc2w, ".fc2.weight"}, {&se.fc2b, ".fc2.bias"}} {
		if *p.dst, err = b.param(prefix + p.name); err != nil {
			return nil, err
		}
	}
	n, c := x.Shape[0], x.Shape[1]
	q := se.fc1w.Shape[0]
	se.pooled = b.act(prefix+".pooled", n, c)
	se.s1 = b.act(prefix+".s1", n, q)
	se.a1 = b.act(prefix+".a1", n, q)
	scratch := []*engine.Tensor{se.pooled, se.s1, se.a1}
	if !se.gate {
		se.s2 = b.act(prefix+".s2", n, c)
		scratch = append(scratch, se.s2)
	}
	se.g = b.act(prefix+".g", n, c)
	if scaleInNext {
		b.done(scratch...)
		return se, b.err
	}
	se.y = b.act(prefix+".y", x.Shape...)
	b.done(append(scratch, se.g)...)
	return se, b.err
}

func (se *squeezeExcite) forward(s *engine.Sequence) {
	ops.GlobalAvgPoolForward(s, se.pooled, se.x)
	if se.gate {
		ops.SqueezeExciteMLPForward(s, se.s1, se.a1, se.g, se.pooled, se.fc1w.Value, se.fc1b.Value, se.fc2w.Value, se.fc2b.Value)
	} else {
		ops.LinearForward(s, se.s1, se.pooled, se.fc1w.Value, se.fc1b.Value)
		ops.SiLUForward(s, se.a1, se.s1)
		ops.LinearForward(s, se.s2, se.a1, se.fc2w.Value, se.fc2b.Value)
		ops.SigmoidForward(s, se.g, se.s2)
	}
	if !se.scaleInNext {
		ops.ChannelScaleForward(s, se.y, se.x, se.g)
	}
}

// backward records dx (both paths summed) from dy, the gradient of y, and
// returns it; dy is left to the caller.
func (se *squeezeExcite) backward(s *engine.Sequence, b *builder, dy *engine.Tensor) *engine.Tensor {
	fused := b.fusion.seBackward
	var dxScale *engine.Tensor
	dg := b.grad("se.dg", se.g.Shape...)
	if fused {
		ops.ChannelScaleBackwardGate(s, dg, dy, se.x)
	} else {
		dxScale = b.grad("se.dx-scale", se.x.Shape...)
		ops.ChannelScaleBackward(s, dxScale, dg, dy, se.x, se.g)
	}
	dp := se.gateBackward(s, b, dg)
	if fused {
		dx := b.grad("se.dx", se.x.Shape...)
		ops.SqueezeExciteBackwardData(s, dx, dy, se.g, dp)
		b.release(dp)
		return dx
	}
	dxPool := b.grad("se.dx-pool", se.x.Shape...)
	ops.GlobalAvgPoolBackward(s, dxPool, dp)
	b.release(dp)
	dx := b.grad("se.dx", se.x.Shape...)
	ops.Add(s, dx, dxScale, dxPool)
	b.release(dxScale, dxPool)
	return dx
}

// gateBackward records the gradient of the gate, dpooled from dg (which it
// releases), and the four parameter gradients (overwritten).
func (se *squeezeExcite) gateBackward(s *engine.Sequence, b *builder, dg *engine.Tensor) *engine.Tensor {
	if se.gate {
		ds2 := b.grad("se.ds2", se.g.Shape...)
		ds1 := b.grad("se.ds1", se.s1.Shape...)
		dp := b.grad("se.dpooled", se.pooled.Shape...)
		ops.SqueezeExciteMLPBackward(s, dp, se.fc1w.Grad, se.fc1b.Grad, se.fc2w.Grad, se.fc2b.Grad, ds2, ds1,
			dg, se.g, se.s1, se.a1, se.pooled, se.fc1w.Value, se.fc2w.Value)
		b.release(dg, ds2, ds1)
		return dp
	}
	ds2 := b.grad("se.ds2", se.s2.Shape...)
	ops.SigmoidBackward(s, ds2, dg, se.g)
	b.release(dg)
	da1 := b.grad("se.da1", se.a1.Shape...)
	ops.LinearBackward(s, da1, se.fc2w.Grad, se.fc2b.Grad, ds2, se.a1, se.fc2w.Value)
	b.release(ds2)
	ds1 := b.grad("se.ds1", se.s1.Shape...)
	ops.SiLUBackward(s, ds1, da1, se.s1)
	b.release(da1)
	dp := b.grad("se.dpooled", se.pooled.Shape...)
	ops.LinearBackward(s, dp, se.fc1w.Grad, se.fc1b.Grad, ds1, se.pooled, se.fc1w.Value)
	b.release(ds1)
	return dp
}
