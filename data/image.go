package data

import "fmt"

// Image is a uint8 image in HWC order: Pix[(y*W+x)*C+c].
type Image struct {
	Pix     []uint8
	H, W, C int
}

// NewImage returns a zeroed h x w image with c channels.
func NewImage(h, w, c int) Image {
	return Image{Pix: make([]uint8, h*w*c), H: h, W: w, C: c}
}

// check reports whether Pix has the size H, W and C say.
func (m Image) check(what string) error {
	if m.H <= 0 || m.W <= 0 || m.C <= 0 || len(m.Pix) != m.H*m.W*m.C {
		return fmt.Errorf("data: %s: image %dx%dx%d does not match its %d pixel bytes", what, m.H, m.W, m.C, len(m.Pix))
	}
	return nil
}

// Clone returns a deep copy of m.
func (m Image) Clone() Image {
	m.Pix = append([]uint8(nil), m.Pix...)
	return m
}

// reshape returns an image of the given shape that reuses buf's storage when
// it is big enough.
func reshape(buf []uint8, h, w, c int) Image {
	n := h * w * c
	if cap(buf) < n {
		buf = make([]uint8, n)
	}
	return Image{Pix: buf[:n], H: h, W: w, C: c}
}

// clampUint8 rounds v to the nearest integer in [0, 255].
func clampUint8(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}
