package data

import "math"

// affine maps an output position (x, y), in pixel units with pixel centers at
// +0.5, to the source position it samples: sx = a*x + b*y + c,
// sy = d*x + e*y + f.
type affine struct{ a, b, c, d, e, f float64 }

// rotation turns the image by degrees (counterclockwise on screen) about its
// center.
func rotation(img Image, degrees float64) affine {
	s, c := math.Sincos(degrees * math.Pi / 180)
	cx, cy := float64(img.W)/2, float64(img.H)/2
	return affine{
		a: c, b: -s, c: cx - c*cx + s*cy,
		d: s, e: c, f: cy - s*cx - c*cy,
	}
}

// shearX slants rows: a row dy below the center moves by -s*dy.
func shearX(img Image, s float64) affine {
	cy := float64(img.H) / 2
	return affine{a: 1, b: s, c: -s * cy, d: 0, e: 1, f: 0}
}

// shearY slants columns: a column dx right of the center moves by -s*dx.
func shearY(img Image, s float64) affine {
	cx := float64(img.W) / 2
	return affine{a: 1, b: 0, c: 0, d: s, e: 1, f: -s * cx}
}

// translation moves the image by (dx, dy) pixels.
func translation(dx, dy float64) affine {
	return affine{a: 1, e: 1, c: -dx, f: -dy}
}

// warp resamples img in place through m with bilinear interpolation;
// positions outside the source read randAugmentFill.
func (a *augmenter) warp(img Image, m affine) {
	src := a.copyToScratch(img)
	if m.a == 1 && m.b == 0 && m.d == 0 && m.e == 1 && m.c == math.Trunc(m.c) && m.f == math.Trunc(m.f) {
		shift(img, src, int(-m.c), int(-m.f))
		return
	}
	c, w, h := img.C, src.W, src.H
	for oy := 0; oy < img.H; oy++ {
		py := float64(oy) + 0.5
		for ox := 0; ox < img.W; ox++ {
			px := float64(ox) + 0.5
			sx := m.a*px + m.b*py + m.c - 0.5
			sy := m.d*px + m.e*py + m.f - 0.5
			o := (oy*img.W + ox) * c
			if sx <= -1 || sy <= -1 || sx >= float64(w) || sy >= float64(h) {
				for ch := 0; ch < c; ch++ {
					img.Pix[o+ch] = randAugmentFill
				}
				continue
			}
			fx, fy := math.Floor(sx), math.Floor(sy)
			wx, wy := sx-fx, sy-fy
			x0, y0 := int(fx), int(fy)
			if x0 >= 0 && y0 >= 0 && x0+1 < w && y0+1 < h {
				p00 := (y0*w + x0) * c
				p10 := p00 + w*c
				for ch := 0; ch < c; ch++ {
					s00, s01 := float64(src.Pix[p00+ch]), float64(src.Pix[p00+c+ch])
					s10, s11 := float64(src.Pix[p10+ch]), float64(src.Pix[p10+c+ch])
					top := s00 + wx*(s01-s00)
					bot := s10 + wx*(s11-s10)
					img.Pix[o+ch] = clampUint8(top + wy*(bot-top))
				}
				continue
			}
			for ch := 0; ch < c; ch++ { // at the border: missing taps read the fill
				top := pixelOrFill(src, x0, y0, ch)*(1-wx) + pixelOrFill(src, x0+1, y0, ch)*wx
				bot := pixelOrFill(src, x0, y0+1, ch)*(1-wx) + pixelOrFill(src, x0+1, y0+1, ch)*wx
				img.Pix[o+ch] = clampUint8(top*(1-wy) + bot*wy)
			}
		}
	}
}

// pixelOrFill returns channel ch of src at (x, y), or the fill outside.
func pixelOrFill(src Image, x, y, ch int) float64 {
	if x < 0 || y < 0 || x >= src.W || y >= src.H {
		return randAugmentFill
	}
	return float64(src.Pix[(y*src.W+x)*src.C+ch])
}

// shift writes src moved by (dx, dy) whole pixels into img, with the fill
// where nothing moved in.
func shift(img, src Image, dx, dy int) {
	c := img.C
	for y := 0; y < img.H; y++ {
		row := img.Pix[y*img.W*c : (y+1)*img.W*c]
		sy := y - dy
		if sy < 0 || sy >= src.H || dx >= img.W || -dx >= img.W {
			fill(row)
			continue
		}
		srow := src.Pix[sy*src.W*c : (sy+1)*src.W*c]
		if dx >= 0 {
			fill(row[:dx*c])
			copy(row[dx*c:], srow[:(img.W-dx)*c])
		} else {
			copy(row, srow[-dx*c:])
			fill(row[(img.W+dx)*c:])
		}
	}
}

// fill sets every byte of b to randAugmentFill.
func fill(b []uint8) {
	for i := range b {
		b[i] = randAugmentFill
	}
}
