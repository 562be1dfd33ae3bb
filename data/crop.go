package data

import (
	"math"
	"math/rand/v2"
)

// CropParams are RandomResizedCrop's ranges; zero values take the defaults
// scale (0.08, 1) and ratio (3/4, 4/3).
type CropParams struct {
	ScaleMin, ScaleMax float64 // fraction of the image area
	RatioMin, RatioMax float64 // width / height
}

// withDefaults fills zero fields with the torchvision defaults.
func (p CropParams) withDefaults() CropParams {
	if p.ScaleMin == 0 && p.ScaleMax == 0 {
		p.ScaleMin, p.ScaleMax = 0.08, 1
	}
	if p.RatioMin == 0 && p.RatioMax == 0 {
		p.RatioMin, p.RatioMax = 3.0/4.0, 4.0/3.0
	}
	return p
}

// RandomResizedCrop cuts a random box of src (area fraction in the scale
// range, aspect ratio log-uniform in the ratio range; ten tries, then a
// center crop with the ratio clamped, as torchvision does) and resizes it to
// outH x outW with bilinear interpolation.
func RandomResizedCrop(src Image, outH, outW int, p CropParams, rng *rand.Rand) Image {
	return resizeBox(nil, src, randomCropBox(src.H, src.W, p.withDefaults(), rng), outH, outW)
}

// randomCropBox picks RandomResizedCrop's box for an h x w image.
func randomCropBox(h, w int, p CropParams, rng *rand.Rand) cropBox {
	area := float64(h * w)
	logLo, logHi := math.Log(p.RatioMin), math.Log(p.RatioMax)
	for try := 0; try < 10; try++ {
		target := area * (p.ScaleMin + rng.Float64()*(p.ScaleMax-p.ScaleMin))
		ratio := math.Exp(logLo + rng.Float64()*(logHi-logLo))
		cw := int(math.Round(math.Sqrt(target * ratio)))
		ch := int(math.Round(math.Sqrt(target / ratio)))
		if cw > 0 && cw <= w && ch > 0 && ch <= h {
			return cropBox{x: rng.IntN(w - cw + 1), y: rng.IntN(h - ch + 1), w: cw, h: ch}
		}
	}
	// Fallback: the whole image, cut to the nearest allowed ratio.
	inRatio := float64(w) / float64(h)
	cw, ch := w, h
	switch {
	case inRatio < p.RatioMin:
		ch = int(math.Round(float64(w) / p.RatioMin))
	case inRatio > p.RatioMax:
		cw = int(math.Round(float64(h) * p.RatioMax))
	}
	cw, ch = max(1, min(cw, w)), max(1, min(ch, h))
	return cropBox{x: (w - cw) / 2, y: (h - ch) / 2, w: cw, h: ch}
}
