package net

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/ops"
)

// block is one Fused-MBConv or MBConv block:
//
//	Fused, expand 1: branch = convBN_kxk(x, SiLU)
//	Fused, expand e: branch = convBN_1x1(convBN_kxk(x, SiLU))
//	MBConv:          branch = convBN_1x1(SE(dwBN_kxk(convBN_1x1(x, SiLU), SiLU)))
//	out = residual ? dropPath(branch) + x : branch
//
// Without drop path, the sum is done by the branch's last unit
// (fusion.residual): out is that unit's output.
type block struct {
	spec    arch.Block
	x       *engine.Tensor
	expand  *convBN        // Fused: the kxk conv; MBConv: the 1x1 expansion
	dw      *convBN        // MBConv only
	se      *squeezeExcite // MBConv only
	proj    *convBN        // nil for Fused expand 1
	drop    bool           // drop path active (train with rate > 0)
	stream  uint32         // RNG stream of the drop-path mask
	dropped *engine.Tensor // dropPath(branch)
	out     *engine.Tensor
	gradSum bool // backward: dx's sum done by the expansion's data gradient (fusion.residualBackward)
}

func (b *builder) newBlock(spec arch.Block, x *engine.Tensor, regularize bool) (*block, error) {
	bl := &block{spec: spec, x: x, stream: uint32(spec.ID + 1), gradSum: b.fusion.residualBackward}
	bl.drop = spec.Residual && regularize && spec.DropPath > 0
	// residual is what the branch's last unit adds to its output: x when
	// the sum is fused into it.
	var residual *engine.Tensor
	fusedSum := spec.Residual && !bl.drop && b.fusion.residual
	if fusedSum {
		residual = x
	}
	p := spec.Prefix + ".block"
	var err error
	var last *engine.Tensor
	switch {
	case spec.Kind == arch.FusedMBConv && !spec.Expands():
		if bl.expand, err = b.newConvBNResidual(p+".0", fullConv, spec.Stride, ops.ActSiLU, x, true, residual); err != nil {
			return nil, err
		}
		last = bl.expand.y
	case spec.Kind == arch.FusedMBConv:
		if bl.expand, err = b.newConvBN(p+".0", fullConv, spec.Stride, ops.ActSiLU, x, true); err != nil {
			return nil, err
		}
		if bl.proj, err = b.newConvBNResidual(p+".1", pointwiseConv, 1, ops.ActNone, bl.expand.y, true, residual); err != nil {
			return nil, err
		}
		b.done(bl.expand.y)
		last = bl.proj.y
	default:
		if bl.expand, err = b.newConvBN(p+".0", pointwiseConv, 1, ops.ActSiLU, x, true); err != nil {
			return nil, err
		}
		if bl.dw, err = b.newConvBN(p+".1", depthwiseConv, spec.Stride, ops.ActSiLU, bl.expand.y, true); err != nil {
			return nil, err
		}
		b.done(bl.expand.y)
		// The projection scales its input by the SE gate as it reads it
		// (fusion.go).
		seInProj := b.fusion.seInProj
		if bl.se, err = b.newSqueezeExcite(p+".2", bl.dw.y, seInProj); err != nil {
			return nil, err
		}
		if !seInProj {
			b.done(bl.dw.y)
			if bl.proj, err = b.newConvBNResidual(p+".3", pointwiseConv, 1, ops.ActNone, bl.se.y, true, residual); err != nil {
				return nil, err
			}
			b.done(bl.se.y)
		} else {
			if bl.proj, err = b.newConvBNResidual(p+".3", pointwiseConv, 1, ops.ActNone, bl.dw.y, true, residual); err != nil {
				return nil, err
			}
			bl.proj.inScale = bl.se.g
			b.done(bl.dw.y, bl.se.g)
		}
		last = bl.proj.y
	}
	bl.out = last
	if spec.Residual && !fusedSum {
		if bl.drop {
			bl.dropped = b.act(spec.Prefix+".dropped", last.Shape...)
		}
		bl.out = b.act(spec.Prefix+".out", last.Shape...)
		b.done(last, bl.dropped)
	}
	// The block's input is released by the graph, which knows whether it
	// is kept as a feature map.
	return bl, b.err
}

func (bl *block) forward(s *engine.Sequence, m *mode, rng *engine.Tensor) {
	bl.expand.forward(s, m)
	if bl.dw != nil {
		bl.dw.forward(s, m)
		bl.se.forward(s)
	}
	if bl.proj != nil {
		bl.proj.forward(s, m)
	}
	if !bl.spec.Residual || bl.out == bl.branchOut() { // no sum, or fused into the last unit
		return
	}
	branch := bl.branchOut()
	if bl.drop {
		ops.DropPathForward(s, bl.dropped, branch, rng, float32(1-bl.spec.DropPath), bl.stream)
		branch = bl.dropped
	}
	ops.Add(s, bl.out, branch, bl.x)
}

func (bl *block) branchOut() *engine.Tensor {
	if bl.proj != nil {
		return bl.proj.y
	}
	return bl.expand.y
}

// backward records the gradient of x from dout, the gradient of out (left
// to the caller), and the gradients of every parameter of the block. It
// returns dx.
func (bl *block) backward(s *engine.Sequence, b *builder, dout *engine.Tensor, rng *engine.Tensor) *engine.Tensor {
	dy := dout
	if bl.drop {
		dy = b.grad(bl.spec.Prefix+".dbranch", dout.Shape...)
		ops.DropPathBackward(s, dy, dout, rng, float32(1-bl.spec.DropPath), bl.stream)
	}
	// next replaces dy by the gradient a layer returns, releasing dy unless
	// it is dout (still needed by the residual).
	next := func(d *engine.Tensor) {
		if dy != dout {
			b.release(dy)
		}
		dy = d
	}
	if bl.proj != nil {
		next(bl.proj.backward(s, b, dy))
	}
	if bl.dw != nil {
		next(bl.se.backward(s, b, dy))
		next(bl.dw.backward(s, b, dy))
	}
	if bl.spec.Residual && bl.expand.needDX && bl.gradSum {
		// dx = the expansion's data gradient + dout, in its kernel.
		dx := bl.expand.backwardAdd(s, b, dy, dout)
		if dy != dout {
			b.release(dy)
		}
		return dx
	}
	next(bl.expand.backward(s, b, dy))
	if !bl.spec.Residual || !bl.expand.needDX {
		return dy // nil when the input needs no gradient (frozen layers below)
	}
	dx := b.grad(bl.spec.Prefix+".dx", bl.x.Shape...)
	ops.Add(s, dx, dy, dout)
	b.release(dy)
	return dx
}
