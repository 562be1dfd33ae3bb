package net

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/ops"
)

// head is the last 1x1 conv + BN + SiLU, global average pooling, dropout
// and the classifier:
//
//	h = convBN_1x1(x, SiLU) [N,F,H,W]; pooled = mean_hw(h) [N,F]
//	dropped = dropout(pooled); logits = dropped W^T + b [N,classes]
type head struct {
	conv    *convBN
	w, bias *Param
	pooled  *engine.Tensor
	drop    bool
	p       float32
	dropped *engine.Tensor
	logits  *engine.Tensor

	dlogits *engine.Tensor // written by the loss

	// frozenConv: the head conv is frozen (GraphConfig.Frozen covers it):
	// backward stops at the classifier.
	frozenConv bool
}

// headStream is the RNG stream of the classifier dropout mask (blocks use
// 1 + block id).
const headStream = 0

func (b *builder) newHead(prefix string, x *engine.Tensor, gc GraphConfig) (*head, error) {
	h := &head{}
	var err error
	if h.conv, err = b.newConvBN(prefix, pointwiseConv, 1, ops.ActSiLU, x, true); err != nil {
		return nil, err
	}
	if h.w, err = b.param("classifier.1.weight"); err != nil {
		return nil, err
	}
	if h.bias, err = b.param("classifier.1.bias"); err != nil {
		return nil, err
	}
	n, f := x.Shape[0], h.conv.y.Shape[1]
	classes := h.w.Shape[0]
	h.pooled = b.act("head.pooled", n, f)
	b.done(h.conv.y)
	h.drop = gc.Regularize && gc.Dropout > 0
	h.p = float32(gc.Dropout)
	h.dropped = h.pooled
	if h.drop {
		h.dropped = b.act("head.dropped", n, f)
	}
	h.logits = b.tensor("logits", n, classes)
	if b.backward {
		h.dlogits = b.tensor("dlogits", n, classes)
	}
	return h, b.err
}

func (h *head) forward(s *engine.Sequence, m *mode, rng *engine.Tensor) {
	h.conv.forward(s, m)
	ops.GlobalAvgPoolForward(s, h.pooled, h.conv.y)
	if h.drop {
		ops.DropoutForward(s, h.dropped, h.pooled, rng, h.p, headStream)
	}
	ops.LinearForward(s, h.logits, h.dropped, h.w.Value, h.bias.Value)
}

// backward records the head's gradients from dlogits and returns the
// gradient of its input (nil when the head conv is frozen).
func (h *head) backward(s *engine.Sequence, b *builder, rng *engine.Tensor) *engine.Tensor {
	dpooled := b.grad("head.ddropped", h.pooled.Shape...)
	ops.LinearBackward(s, dpooled, h.w.Grad, h.bias.Grad, h.dlogits, h.dropped, h.w.Value)
	if h.frozenConv {
		b.release(dpooled)
		return nil
	}
	if h.drop {
		d := b.grad("head.dpooled", h.pooled.Shape...)
		ops.DropoutBackward(s, d, dpooled, rng, h.p, headStream)
		b.release(dpooled)
		dpooled = d
	}
	dh := b.grad("head.dh", h.conv.y.Shape...)
	ops.GlobalAvgPoolBackward(s, dh, dpooled)
	b.release(dpooled)
	dx := h.conv.backward(s, b, dh)
	b.release(dh)
	return dx
}
