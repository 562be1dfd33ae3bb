package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// Activation is an activation function fused after another operation (for
// now batch normalization).
type Activation int

// Fusable activations; the value is the shaders' ACT_* code.
const (
	ActNone Activation = iota // identity
	ActSiLU                   // x * sigmoid(x)
)

func (a Activation) String() string {
	switch a {
	case ActNone:
		return "none"
	case ActSiLU:
		return "silu"
	}
	return fmt.Sprintf("Activation(%d)", int(a))
}

// valid reports whether a is a known activation.
func (a Activation) valid() bool { return a == ActNone || a == ActSiLU }

// elementwisePush is the push-constant block shared by every kernel of
// shaders/activation.comp.
type elementwisePush = shaders.AddPush

// elementwise checks that every tensor is float32 with out's element count
// and that out aliases no input, then records kernel name over out's
// values: one texel of four values per invocation. (Aliasing is detected
// by tensor identity; two slices sharing memory are not detected.)
func elementwise(s *engine.Sequence, op, name string, alpha float32, out *engine.Tensor, in ...*engine.Tensor) {
	if s.Err() != nil {
		return
	}
	if out == nil {
		s.Fail(fmt.Errorf("%s: missing output tensor", op))
		return
	}
	for _, t := range append([]*engine.Tensor{out}, in...) {
		if t == nil {
			s.Fail(fmt.Errorf("%s: missing input tensor (output %v)", op, out))
			return
		}
		if t.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: %v is %s, want float32", op, t, t.DType))
			return
		}
		if t.Len() != out.Len() {
			s.Fail(fmt.Errorf("%s: %v has %d values, output %v has %d: shapes must match", op, t, t.Len(), out, out.Len()))
			return
		}
	}
	for _, t := range in {
		if t == out {
			s.Fail(fmt.Errorf("%s: output %v is also an input: use a separate output tensor", op, out))
			return
		}
	}
	if splitBatch(s, op, func(part batchPart, _ int) {
		parts := make([]*engine.Tensor, len(in))
		for i, t := range in {
			parts[i] = part(t)
		}
		elementwise(s, op, name, alpha, part(out), parts...)
	}, append([]*engine.Tensor{out}, in...)...) {
		return
	}
	n := out.Len()
	args := append(append([]*engine.Tensor(nil), in...), out, out)
	s.Dispatch1D(s.Kernel(name, elementwiseLocalSpec(s.Device())), ceilDiv(n, 4), elementwisePush{N: uint32(n), Alpha: alpha}, args...)
}

// SiLUForward records y = x * sigmoid(x) elementwise (any shape; y and x
// have the same number of values):
//
//	for i := range x { y[i] = x[i] / (1 + exp(-x[i])) }
func SiLUForward(s *engine.Sequence, y, x *engine.Tensor) {
	elementwise(s, "silu forward", "silu_forward", 0, y, x)
}

// SiLUBackward records the gradient of SiLUForward from the forward INPUT x:
//
//	for i := range x { sg := sigmoid(x[i]); dx[i] = dy[i] * sg * (1 + x[i]*(1-sg)) }
func SiLUBackward(s *engine.Sequence, dx, dy, x *engine.Tensor) {
	elementwise(s, "silu backward", "silu_backward", 0, dx, dy, x)
}

// SigmoidForward records y = 1 / (1 + exp(-x)) elementwise.
func SigmoidForward(s *engine.Sequence, y, x *engine.Tensor) {
	elementwise(s, "sigmoid forward", "sigmoid_forward", 0, y, x)
}

// SigmoidBackward records the gradient of SigmoidForward from the forward
// OUTPUT y (not x):
//
//	for i := range y { dx[i] = dy[i] * y[i] * (1 - y[i]) }
func SigmoidBackward(s *engine.Sequence, dx, dy, y *engine.Tensor) {
	elementwise(s, "sigmoid backward", "sigmoid_backward", 0, dx, dy, y)
}

// Add records the residual sum y[i] = a[i] + b[i]. y must be a tensor other
// than a and b. Its gradient is the identity: da = db = dy.
func Add(s *engine.Sequence, y, a, b *engine.Tensor) {
	elementwise(s, "add", "add", 0, y, a, b)
}

// AddScaled records y[i] = a[i] + alpha * b[i] (y other than a and b).
func AddScaled(s *engine.Sequence, y, a, b *engine.Tensor, alpha float32) {
	elementwise(s, "add scaled", "add_scaled", alpha, y, a, b)
}

// Scale records y[i] = alpha * x[i] (y other than x).
func Scale(s *engine.Sequence, y, x *engine.Tensor, alpha float32) {
	elementwise(s, "scale", "scale", alpha, y, x)
}
