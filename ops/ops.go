package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// shape4 returns the four dimensions of an NCHW tensor, recording an error
// in s when t is not 4-D.
func shape4(s *engine.Sequence, op string, t *engine.Tensor) (n, c, h, w int, ok bool) {
	if t == nil || len(t.Shape) != 4 {
		if t == nil {
			s.Fail(fmt.Errorf("%s: missing tensor", op))
		} else {
			s.Fail(fmt.Errorf("%s: %s must be 4-D NCHW", op, t))
		}
		return 0, 0, 0, 0, false
	}
	return t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3], true
}

// wantShape records an error in s unless t has exactly the given shape.
func wantShape(s *engine.Sequence, op, role string, t *engine.Tensor, shape ...int) bool {
	if t == nil {
		s.Fail(fmt.Errorf("%s: %s is missing, want shape %v", op, role, shape))
		return false
	}
	if len(t.Shape) != len(shape) {
		s.Fail(fmt.Errorf("%s: %s %s does not match shape %v", op, role, t, shape))
		return false
	}
	for i := range shape {
		if t.Shape[i] != shape[i] {
			s.Fail(fmt.Errorf("%s: %s %s does not match shape %v", op, role, t, shape))
			return false
		}
	}
	return true
}

// ConvOutSize is the output size of a k x k convolution with stride s and
// torchvision's symmetric padding (k-1)/2.
func ConvOutSize(in, k, stride int) int {
	p := (k - 1) / 2
	return (in+2*p-k)/stride + 1
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }
