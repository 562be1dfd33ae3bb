package data

import "math"

// cropBox is a rectangle of a source image, in pixels.
type cropBox struct{ x, y, w, h int }

// resizeBox resamples the box of src to an outH x outW image with bilinear
// interpolation (half-pixel centers, edges clamped, no antialiasing), writing
// into dst's storage when it is big enough.
func resizeBox(dst []uint8, src Image, box cropBox, outH, outW int) Image {
	out := reshape(dst, outH, outW, src.C)
	x0s, x1s, wxs := bilinearTaps(box.x, box.w, outW, src.W)
	y0s, y1s, wys := bilinearTaps(box.y, box.h, outH, src.H)
	c := src.C
	rowStride := src.W * c
	for oy := 0; oy < outH; oy++ {
		r0 := src.Pix[y0s[oy]*rowStride:]
		r1 := src.Pix[y1s[oy]*rowStride:]
		wy := wys[oy]
		o := out.Pix[oy*outW*c:]
		for ox := 0; ox < outW; ox++ {
			a, b, wx := x0s[ox]*c, x1s[ox]*c, wxs[ox]
			for ch := 0; ch < c; ch++ {
				top := float64(r0[a+ch]) + wx*(float64(r0[b+ch])-float64(r0[a+ch]))
				bot := float64(r1[a+ch]) + wx*(float64(r1[b+ch])-float64(r1[a+ch]))
				o[ox*c+ch] = clampUint8(top + wy*(bot-top))
			}
		}
	}
	return out
}

// bilinearTaps returns, for each of n output positions covering the source
// span [start, start+length) of an axis with size pixels, the two source
// pixels to blend and the weight of the second.
func bilinearTaps(start, length, n, size int) (i0, i1 []int, w []float64) {
	i0, i1, w = make([]int, n), make([]int, n), make([]float64, n)
	scale := float64(length) / float64(n)
	for o := 0; o < n; o++ {
		s := float64(start) + (float64(o)+0.5)*scale - 0.5
		s = math.Max(0, math.Min(s, float64(size-1)))
		f := math.Floor(s)
		a := int(f)
		b := min(a+1, size-1)
		i0[o], i1[o], w[o] = a, b, s-f
	}
	return i0, i1, w
}

// ResizeShorterCenterCrop scales src so that its shorter side is size
// (bilinear, keeping the aspect ratio) and cuts the centered size x size
// square: the usual evaluation transform. An image already size x size is
// copied unchanged.
func ResizeShorterCenterCrop(src Image, size int) Image {
	return resizeShorterCenterCrop(nil, src, size)
}

// resizeShorterCenterCrop is ResizeShorterCenterCrop writing into dst.
func resizeShorterCenterCrop(dst []uint8, src Image, size int) Image {
	if src.H == size && src.W == size {
		out := reshape(dst, size, size, src.C)
		copy(out.Pix, src.Pix)
		return out
	}
	// The source box whose aspect is 1 and which maps onto the output square.
	side := min(src.H, src.W)
	box := cropBox{x: (src.W - side) / 2, y: (src.H - side) / 2, w: side, h: side}
	return resizeBox(dst, src, box, size, size)
}

// HorizontalFlip mirrors img left to right in place.
func HorizontalFlip(img Image) {
	c := img.C
	for y := 0; y < img.H; y++ {
		row := img.Pix[y*img.W*c : (y+1)*img.W*c]
		for l, r := 0, img.W-1; l < r; l, r = l+1, r-1 {
			for ch := 0; ch < c; ch++ {
				row[l*c+ch], row[r*c+ch] = row[r*c+ch], row[l*c+ch]
			}
		}
	}
}
