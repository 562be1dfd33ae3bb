package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// Epilogue is what a fused forward convolution (Conv2DForwardFused,
// PointwiseForwardFused, DepthwiseForwardFused) applies to each sum z before
// writing it: eval-mode batch norm folded into the conv, its activation and
// an optional residual,
//
//	y[n,o,h,w] = act(z[n,o,h,w]*Scale[o] + Shift[o]) (+ Residual[n,o,h,w])
//
// Scale and Shift are [OC] (from BatchNormFold); Residual is nil or has y's
// shape. The unfused path is conv -> BatchNormEvalParams ->
// BatchNormForward (-> Add): one pass over the output instead of three.
//
// InputScale, pointwise only, is a prologue: nil, or s [N,C] by which the
// input is scaled as it is read (squeeze-excite's channel scale, saving
// ChannelScaleForward's pass):
//
//	z[n,o,h,w] = sum_c w[o,c] * x[n,c,h,w] * InputScale[n,c]
type Epilogue struct {
	Scale, Shift *engine.Tensor
	Act          Activation
	Residual     *engine.Tensor
	InputScale   *engine.Tensor
}

// Specialization constant ids of include/epilogue.glsl.
const (
	epilogueSpecAct      = 20
	epilogueSpecResidual = 21
)

// check records an error in s unless ep fits the output y ([N,OC,H,W]).
func (ep *Epilogue) check(s *engine.Sequence, op string, y *engine.Tensor) bool {
	if s.Err() != nil {
		return false
	}
	if ep == nil {
		s.Fail(fmt.Errorf("%s: missing epilogue: use the unfused forward instead", op))
		return false
	}
	if !ep.Act.valid() {
		s.Fail(fmt.Errorf("%s: unknown activation %v: use ActNone or ActSiLU", op, ep.Act))
		return false
	}
	n, oc, h, w, ok := shape4(s, op, y)
	if !ok {
		return false
	}
	for _, a := range []roleTensor{{"scale", ep.Scale}, {"shift", ep.Shift}} {
		if a.t == nil || len(a.t.Shape) != 1 || a.t.Len() != oc || a.t.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: epilogue %s %v must be float32 [%d] for y %v", op, a.role, a.t, oc, y))
			return false
		}
	}
	if ep.Residual != nil {
		if !wantShape(s, op, "residual", ep.Residual, n, oc, h, w) {
			return false
		}
		if ep.Residual.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: residual %v is %s, want float32", op, ep.Residual, ep.Residual.DType))
			return false
		}
	}
	return true
}

// checkInputScale records an error in s unless ep's InputScale is nil
// (pointwise false: the kernel has no prologue) or [N,C] for input x.
func (ep *Epilogue) checkInputScale(s *engine.Sequence, op string, x *engine.Tensor, pointwise bool) bool {
	if s.Err() != nil {
		return false
	}
	if ep.InputScale == nil {
		return true
	}
	if ep.InputScale.DType != engine.Float32 {
		s.Fail(fmt.Errorf("%s: input scale %v is %s, want float32", op, ep.InputScale, ep.InputScale.DType))
		return false
	}
	if !pointwise {
		s.Fail(fmt.Errorf("%s: an input scale is supported by the pointwise (1x1) kernels only: apply ChannelScaleForward first", op))
		return false
	}
	n, c, _, _, ok := shape4(s, op, x)
	if !ok {
		return false
	}
	return wantShape(s, op, "input scale", ep.InputScale, n, c)
}

// specs are the epilogue's specialization constants.
func (ep *Epilogue) specs() []engine.Spec {
	res := uint32(0)
	if ep.Residual != nil {
		res = 1
	}
	return []engine.Spec{{ID: epilogueSpecAct, Value: uint32(ep.Act)}, {ID: epilogueSpecResidual, Value: res}}
}

// args are the epilogue's bindings, after the kernel's own: scale, shift,
// and the residual (shift stands in when there is none; it is not read).
func (ep *Epilogue) args() []*engine.Tensor {
	res := ep.Residual
	if res == nil {
		res = ep.Shift
	}
	args := []*engine.Tensor{ep.Scale, ep.Shift, res}
	if ep.InputScale != nil {
		args = append(args, ep.InputScale)
	}
	return args
}

// Conv2DForwardFused records Conv2DForward with the epilogue ep applied to
// every output (see Epilogue); y is overwritten with the unit's output.
func Conv2DForwardFused(s *engine.Sequence, y, x, w *engine.Tensor, stride int, ep *Epilogue) {
	const op = "conv2d forward fused"
	if ep.check(s, op, y) && ep.checkInputScale(s, op, x, false) {
		conv2dForward(s, y, x, w, stride, ep)
	}
}

// PointwiseForwardFused records PointwiseForward with the epilogue ep
// applied to every output (see Epilogue); y is overwritten with the unit's
// output.
func PointwiseForwardFused(s *engine.Sequence, y, x, w *engine.Tensor, ep *Epilogue) {
	const op = "pointwise forward fused"
	if ep.check(s, op, y) && ep.checkInputScale(s, op, x, true) {
		pointwiseForward(s, y, x, w, ep)
	}
}

// DepthwiseForwardFused records DepthwiseForward with the epilogue ep
// applied to every output (see Epilogue); y is overwritten with the unit's
// output.
func DepthwiseForwardFused(s *engine.Sequence, y, x, w *engine.Tensor, stride int, ep *Epilogue) {
	const op = "depthwise forward fused"
	if ep.check(s, op, y) && ep.checkInputScale(s, op, x, false) {
		depthwiseForward(s, y, x, w, stride, ep)
	}
}

// epilogueVariant is the kernel-name suffix of the fused variants ("" for
// none).
func epilogueVariant(ep *Epilogue) string {
	switch {
	case ep == nil:
		return ""
	case ep.prologueOnly():
		return "_se"
	case ep.InputScale != nil:
		return "_bn_se"
	}
	return "_bn"
}

// prologueOnly reports whether ep is only an input scale (the pointwise
// _se variants without batch norm, for training graphs).
func (ep *Epilogue) prologueOnly() bool { return ep.Scale == nil && ep.InputScale != nil }

// withEpilogue appends ep's specialization constants (none for nil).
func withEpilogue(specs []engine.Spec, ep *Epilogue) []engine.Spec {
	if ep == nil || ep.prologueOnly() {
		return specs
	}
	return append(specs, ep.specs()...)
}

// epilogueArgs appends ep's bindings to a kernel's own (none for nil).
func epilogueArgs(ep *Epilogue, args ...*engine.Tensor) []*engine.Tensor {
	switch {
	case ep == nil:
		return args
	case ep.prologueOnly():
		return append(args, ep.InputScale)
	}
	return append(args, ep.args()...)
}

// sliced is ep for one slice of a batch split: its batch-major tensors
// (Residual, InputScale) cut by part, the per-channel ones kept; nil
// stays nil.
func (ep *Epilogue) sliced(part batchPart) *Epilogue {
	if ep == nil {
		return nil
	}
	q := *ep
	if q.Residual != nil {
		q.Residual = part(q.Residual)
	}
	if q.InputScale != nil {
		q.InputScale = part(q.InputScale)
	}
	return &q
}

// withBatchMajor appends ep's batch-major tensors to ts, so that a batch
// split plans (and aligns) its slices for them too.
func (ep *Epilogue) withBatchMajor(ts ...*engine.Tensor) []*engine.Tensor {
	if ep == nil {
		return ts
	}
	for _, t := range []*engine.Tensor{ep.Residual, ep.InputScale} {
		if t != nil {
			ts = append(ts, t)
		}
	}
	return ts
}
