package data

// Pixel-value operations of RandAugment, modelled on PIL's ImageOps and
// ImageEnhance. Each works in place on a uint8 HWC image.

// autoContrast stretches each channel so that its darkest pixel becomes 0 and
// its brightest 255; a constant channel is left alone.
func autoContrast(img Image) {
	for ch := 0; ch < img.C; ch++ {
		lo, hi := uint8(255), uint8(0)
		for i := ch; i < len(img.Pix); i += img.C {
			lo, hi = min(lo, img.Pix[i]), max(hi, img.Pix[i])
		}
		if hi <= lo {
			continue
		}
		scale := 255 / float64(hi-lo)
		var lut [256]uint8
		for v := int(lo); v <= int(hi); v++ {
			lut[v] = clampUint8(float64(v-int(lo)) * scale)
		}
		for i := ch; i < len(img.Pix); i += img.C {
			img.Pix[i] = lut[img.Pix[i]]
		}
	}
}

// equalize flattens each channel's histogram with PIL's algorithm: the
// step is the pixel count without the top level, spread over 255 levels.
func equalize(img Image) {
	for ch := 0; ch < img.C; ch++ {
		var hist [256]int
		for i := ch; i < len(img.Pix); i += img.C {
			hist[img.Pix[i]]++
		}
		last := 255
		for last > 0 && hist[last] == 0 {
			last--
		}
		total := 0
		for _, n := range hist {
			total += n
		}
		step := (total - hist[last]) / 255
		if step == 0 {
			continue
		}
		var lut [256]uint8
		n := step / 2
		for v := 0; v < 256; v++ {
			lut[v] = uint8(min(255, n/step))
			n += hist[v]
		}
		for i := ch; i < len(img.Pix); i += img.C {
			img.Pix[i] = lut[img.Pix[i]]
		}
	}
}

// solarize inverts every value at or above threshold.
func solarize(img Image, threshold float64) {
	for i, v := range img.Pix {
		if float64(v) >= threshold {
			img.Pix[i] = 255 - v
		}
	}
}

// posterize keeps the top bits bits (1..8) of each value.
func posterize(img Image, bits int) {
	bits = max(1, min(bits, 8))
	mask := uint8(0xff << (8 - bits))
	for i := range img.Pix {
		img.Pix[i] &= mask
	}
}

// blendConstant moves each value away from (factor > 1) or toward
// (factor < 1) a constant: out = d + factor*(v-d).
func blendConstant(img Image, d, factor float64) {
	var lut [256]uint8
	for v := range lut {
		lut[v] = clampUint8(d + factor*(float64(v)-d))
	}
	for i, v := range img.Pix {
		img.Pix[i] = lut[v]
	}
}

// adjustBrightness blends with black: factor 0 is black, 1 unchanged.
func adjustBrightness(img Image, factor float64) {
	blendConstant(img, 0, factor)
}

// luma returns the ITU-R 601 gray level of pixel p (PIL's "L" conversion);
// for images without three channels it is the first channel.
func luma(img Image, p int) float64 {
	if img.C < 3 {
		return float64(img.Pix[p*img.C])
	}
	o := p * img.C
	return (299*float64(img.Pix[o]) + 587*float64(img.Pix[o+1]) + 114*float64(img.Pix[o+2])) / 1000
}

// adjustContrast blends with the mean gray level: factor 0 is a flat gray
// image, 1 unchanged.
func adjustContrast(img Image, factor float64) {
	pixels := img.H * img.W
	sum := 0.0
	for p := 0; p < pixels; p++ {
		sum += luma(img, p)
	}
	mean := float64(int(sum/float64(pixels) + 0.5))
	blendConstant(img, mean, factor)
}

// adjustColor blends each pixel with its gray level: factor 0 is grayscale,
// 1 unchanged. Images with fewer than three channels are left alone.
func adjustColor(img Image, factor float64) {
	if img.C < 3 {
		return
	}
	for p := 0; p < img.H*img.W; p++ {
		gray := float64(int(luma(img, p) + 0.5))
		for ch := 0; ch < 3; ch++ {
			o := p*img.C + ch
			img.Pix[o] = clampUint8(gray + factor*(float64(img.Pix[o])-gray))
		}
	}
}

// adjustSharpness blends with a smoothed copy (PIL's SMOOTH kernel, 5 in the
// center and 1 around, over 13; border pixels kept): factor 0 is the
// smoothed image, 1 unchanged, 2 sharpened.
func (a *augmenter) adjustSharpness(img Image, factor float64) {
	if img.H < 3 || img.W < 3 {
		return
	}
	src := a.copyToScratch(img)
	c, stride := img.C, img.W*img.C
	for y := 1; y < img.H-1; y++ {
		for x := 1; x < img.W-1; x++ {
			for ch := 0; ch < c; ch++ {
				o := y*stride + x*c + ch
				sum := 4 * int(src.Pix[o])
				for _, d := range [...]int{-stride - c, -stride, -stride + c, -c, 0, c, stride - c, stride, stride + c} {
					sum += int(src.Pix[o+d])
				}
				smooth := float64(int(float64(sum)/13 + 0.5))
				img.Pix[o] = clampUint8(smooth + factor*(float64(src.Pix[o])-smooth))
			}
		}
	}
}
