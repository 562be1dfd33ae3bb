package ref

import "fmt"

// Shape4 is the shape of an NCHW tensor: batch N, channels C, height H,
// width W. Element (n,c,h,w) lives at ((n*C+c)*H+h)*W+w.
type Shape4 struct{ N, C, H, W int }

// Len is the number of elements, N*C*H*W.
func (s Shape4) Len() int { return s.N * s.C * s.H * s.W }

// Index is the row-major offset of element (n,c,h,w).
func (s Shape4) Index(n, c, h, w int) int { return ((n*s.C+c)*s.H+h)*s.W + w }

// String writes the shape as NxCxHxW.
func (s Shape4) String() string { return fmt.Sprintf("%dx%dx%dx%d", s.N, s.C, s.H, s.W) }

// Padding is the symmetric zero padding of a k x k convolution, (k-1)/2.
func Padding(k int) int { return (k - 1) / 2 }

// ConvOutSize is the output extent of a k x k convolution with stride s and
// padding Padding(k) over an input extent in: (in + 2p - k)/s + 1.
func ConvOutSize(in, k, stride int) int { return (in+2*Padding(k)-k)/stride + 1 }

// convOutShape is the output shape of a k x k, stride s convolution with oc
// output channels over input shape xs.
func convOutShape(xs Shape4, oc, k, stride int) Shape4 {
	return Shape4{N: xs.N, C: oc, H: ConvOutSize(xs.H, k, stride), W: ConvOutSize(xs.W, k, stride)}
}

// mustLen panics when a slice argument does not have the length its shape
// implies; see the package doc for why the reference panics.
func mustLen(op, name string, got, want int) {
	if got != want {
		panic(fmt.Sprintf("ref: %s: %s has %d elements, want %d", op, name, got, want))
	}
}

// mustConvGeometry panics on a kernel size or stride that the reference does
// not define (k odd and positive, stride positive, non-empty output).
func mustConvGeometry(op string, xs Shape4, k, stride int) {
	if k < 1 || k%2 == 0 || stride < 1 {
		panic(fmt.Sprintf("ref: %s: kernel %d stride %d: want an odd kernel >= 1 and stride >= 1", op, k, stride))
	}
	if xs.N < 1 || xs.C < 1 || xs.H < 1 || xs.W < 1 {
		panic(fmt.Sprintf("ref: %s: input shape %v has an empty dimension", op, xs))
	}
}

// mustShape panics when a shape argument differs from the one the other
// arguments imply.
func mustShape(op, name string, got, want Shape4) {
	if got != want {
		panic(fmt.Sprintf("ref: %s: %s shape is %v, want %v", op, name, got, want))
	}
}
