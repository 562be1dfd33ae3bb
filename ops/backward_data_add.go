package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// The backward-data kernels with an addend: dx = (the data gradient) +
// addend, where a residual block's input gradient is the sum of its
// branch's (the expand layer's data gradient) and the gradient reaching
// it through the skip connection. The sum is taken as each result is
// written, instead of by a separate Add pass over three tensors.

// PointwiseBackwardDataAdd records PointwiseBackwardData plus addend:
//
//	dx[n,c,h,w] = sum_{o<OC} w[o,c,0,0] * dy[n,o,h,w] + addend[n,c,h,w]
//
// addend has dx's shape and may be neither dx nor dy. The result is
// PointwiseBackwardData's float32 sum plus addend, rounded once: the bits
// of PointwiseBackwardData followed by Add (same variant).
func PointwiseBackwardDataAdd(s *engine.Sequence, dx, dy, w, addend *engine.Tensor) {
	if s.Err() == nil && addend == nil {
		s.Fail(fmt.Errorf("pointwise backward data add: missing addend: use PointwiseBackwardData"))
		return
	}
	pointwiseBackwardData(s, dx, dy, w, addend)
}

// Conv2DBackwardDataAdd records Conv2DBackwardData plus addend:
//
//	dx[n,c,h,v] = (Conv2DBackwardData's dx)[n,c,h,v] + addend[n,c,h,v]
//
// addend has dx's shape and may be neither dx nor dy; the bits are those
// of Conv2DBackwardData followed by Add (same variant).
func Conv2DBackwardDataAdd(s *engine.Sequence, dx, dy, w *engine.Tensor, stride int, addend *engine.Tensor) {
	if s.Err() == nil && addend == nil {
		s.Fail(fmt.Errorf("conv2d backward data add: missing addend: use Conv2DBackwardData"))
		return
	}
	conv2dBackwardData(s, dx, dy, w, stride, addend)
}

// addendCheck checks addend (nil: none) against the output dx: the same
// shape, float32, none of dx and the inputs ins.
func addendCheck(s *engine.Sequence, op string, dx, addend *engine.Tensor, ins ...*engine.Tensor) bool {
	if addend == nil {
		return true
	}
	if !wantShape(s, op, "addend", addend, dx.Shape...) {
		return false
	}
	if addend.DType != engine.Float32 {
		s.Fail(fmt.Errorf("%s: addend %v is %s, want float32", op, addend, addend.DType))
		return false
	}
	for _, t := range append(ins, dx) {
		if t == addend {
			s.Fail(fmt.Errorf("%s: addend %v is also an operand: use a separate tensor", op, addend))
			return false
		}
	}
	return true
}

// addendVariant is the tuner's shape mark of an addend ("" for none).
func addendVariant(addend *engine.Tensor) string {
	if addend == nil {
		return ""
	}
	return "_add"
}

// conv2dBackwardDataKernel is the backward-data kernel of c, before the
// cluster shape's suffix.
func conv2dBackwardDataKernel(c conv2dCall) string {
	return "conv2d_backward_data" + addendVariant(c.addend)
}

// withAddend appends addend to a kernel's bindings unless it is nil.
func withAddend(args []*engine.Tensor, addend *engine.Tensor) []*engine.Tensor {
	return withNonNil(args, addend)
}

// withNonNil appends the tensors of more that are not nil to ts.
func withNonNil(ts []*engine.Tensor, more ...*engine.Tensor) []*engine.Tensor {
	for _, t := range more {
		if t != nil {
			ts = append(ts, t)
		}
	}
	return ts
}

// partOrNil is part(t), or nil for nil.
func partOrNil(part batchPart, t *engine.Tensor) *engine.Tensor {
	if t == nil {
		return nil
	}
	return part(t)
}

// scratchAddend is a scratch twin of addend (nil stays nil) for a tuner's
// timing run, and a function freeing it and then calling free.
func scratchAddend(d *engine.Device, addend *engine.Tensor, free func()) (*engine.Tensor, func(), error) {
	if addend == nil {
		return nil, free, nil
	}
	ts, freeAddend, err := scratchTensors(d, addend)
	if err != nil {
		free()
		return nil, nil, err
	}
	return ts[0], func() { freeAddend(); free() }, nil
}
