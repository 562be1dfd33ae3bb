package data

import "math"

// cropBox is a rectangle of a source image, in pixels.
type cropBox struct{ x, y, w, h int }

// resizeFracBits is the fixed-point precision of resizeBox's interpolation
// weights: 11 bits keep every intermediate of the two blends inside 32 bits
// (255 * 2^11 * 2^11 < 2^31) and the result within one level of exact
// float64 bilinear interpolation.
const resizeFracBits = 11

// resizeBox resamples the box of src to an outH x outW image with bilinear
// interpolation (half-pixel centers, edges clamped, no antialiasing), writing
// into dst's storage when it is big enough. The arithmetic is fixed point
// (weights in 1/2048), within one level of the float64 formula
// top = r0[a] + wx*(r0[b]-r0[a]), bottom likewise on r1, out = top + wy*(bottom-top).
func resizeBox(dst []uint8, src Image, box cropBox, outH, outW int) Image {
	out := reshape(dst, outH, outW, src.C)
	c := src.C
	x0s, x1s, wxs := bilinearTaps(box.x, box.w, outW, src.W)
	y0s, y1s, wys := bilinearTaps(box.y, box.h, outH, src.H)
	xa, xb, xw := make([]int32, outW), make([]int32, outW), make([]int32, outW)
	for ox := range xa {
		xa[ox], xb[ox], xw[ox] = int32(x0s[ox]*c), int32(x1s[ox]*c), fixedWeight(wxs[ox])
	}
	const one, round = 1 << resizeFracBits, 1 << (2*resizeFracBits - 1)
	rowStride := src.W * c
	for oy := 0; oy < outH; oy++ {
		r0 := src.Pix[y0s[oy]*rowStride : (y0s[oy]+1)*rowStride]
		r1 := src.Pix[y1s[oy]*rowStride : (y1s[oy]+1)*rowStride]
		wy := fixedWeight(wys[oy])
		o := out.Pix[oy*outW*c : (oy+1)*outW*c]
		if c == 3 {
			for ox := 0; ox < outW; ox++ {
				a, b, wx := xa[ox], xb[ox], xw[ox]
				p0, p1, q0, q1 := r0[a:a+3], r0[b:b+3], r1[a:a+3], r1[b:b+3]
				d := o[ox*3 : ox*3+3]
				for ch := 0; ch < 3; ch++ {
					top := int32(p0[ch])*(one-wx) + int32(p1[ch])*wx
					bot := int32(q0[ch])*(one-wx) + int32(q1[ch])*wx
					d[ch] = uint8((top*(one-wy) + bot*wy + round) >> (2 * resizeFracBits))
				}
			}
			continue
		}
		for ox := 0; ox < outW; ox++ {
			a, b, wx := int(xa[ox]), int(xb[ox]), xw[ox]
			for ch := 0; ch < c; ch++ {
				top := int32(r0[a+ch])*(one-wx) + int32(r0[b+ch])*wx
				bot := int32(r1[a+ch])*(one-wx) + int32(r1[b+ch])*wx
				o[ox*c+ch] = uint8((top*(one-wy) + bot*wy + round) >> (2 * resizeFracBits))
			}
		}
	}
	return out
}

// fixedWeight converts an interpolation weight in [0, 1] to 1/2048ths.
func fixedWeight(w float64) int32 {
	return int32(math.Round(w * (1 << resizeFracBits)))
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
