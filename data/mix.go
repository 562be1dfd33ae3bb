package data

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// MixParams configures Mixup and CutMix, applied per batch as in timm's
// Mixup (mode "batch"): one lambda for the batch, sample i mixed with sample
// N-1-i. An alpha of 0 turns that method off.
type MixParams struct {
	MixupAlpha  float64 // lambda ~ Beta(alpha, alpha) for Mixup
	CutMixAlpha float64 // lambda ~ Beta(alpha, alpha) for CutMix
	// SwitchProb is the chance of CutMix when both alphas are on; 0 means 0.5.
	SwitchProb float64
	// LabelSmoothing moves this much probability mass from the true class to
	// all classes evenly; with it, targets are soft even without mixing.
	LabelSmoothing float64
}

// Mixing reports whether Mixup or CutMix is on.
func (p MixParams) Mixing() bool { return p.MixupAlpha > 0 || p.CutMixAlpha > 0 }

// SoftTargets reports whether batches carry soft targets.
func (p MixParams) SoftTargets() bool { return p.Mixing() || p.LabelSmoothing > 0 }

// validate rejects negative alphas and out-of-range probabilities.
func (p MixParams) validate() error {
	if p.MixupAlpha < 0 || p.CutMixAlpha < 0 || math.IsNaN(p.MixupAlpha) || math.IsNaN(p.CutMixAlpha) {
		return fmt.Errorf("data: mixup alpha %g / cutmix alpha %g: want >= 0 (0 turns it off)", p.MixupAlpha, p.CutMixAlpha)
	}
	if !(p.SwitchProb >= 0 && p.SwitchProb <= 1) {
		return fmt.Errorf("data: mix switch probability %g: want 0..1", p.SwitchProb)
	}
	if !(p.LabelSmoothing >= 0 && p.LabelSmoothing < 1) {
		return fmt.Errorf("data: label smoothing %g: want 0 <= s < 1", p.LabelSmoothing)
	}
	return nil
}

// MixBatch mixes a batch of n images (NHWC, h x w x c each) in place and
// writes soft targets [n*classes] into targets (allocated when too short),
// which it returns with the lambda used (the weight of each sample's own
// image and label; 1 when not mixing). Labels must be in [0, classes).
func MixBatch(images []uint8, n, h, w, c int, labels []int32, classes int, p MixParams, rng *rand.Rand, targets []float32) ([]float32, float64) {
	var scratch []uint8
	return mixBatch(images, n, h, w, c, labels, classes, p, rng, targets, &scratch)
}

// mixBatch is MixBatch with reusable scratch memory for the original images.
func mixBatch(images []uint8, n, h, w, c int, labels []int32, classes int, p MixParams, rng *rand.Rand, targets []float32, scratch *[]uint8) ([]float32, float64) {
	lam := 1.0
	if p.Mixing() && n > 0 {
		useCutMix := p.MixupAlpha <= 0
		if p.MixupAlpha > 0 && p.CutMixAlpha > 0 {
			switchProb := p.SwitchProb
			if switchProb == 0 {
				switchProb = 0.5
			}
			useCutMix = rng.Float64() < switchProb
		}
		if cap(*scratch) < len(images) {
			*scratch = make([]uint8, len(images))
		}
		orig := (*scratch)[:len(images)]
		copy(orig, images)
		if useCutMix {
			lam = cutMix(images, orig, n, h, w, c, SampleBeta(rng, p.CutMixAlpha, p.CutMixAlpha), rng)
		} else {
			lam = SampleBeta(rng, p.MixupAlpha, p.MixupAlpha)
			mixup(images, orig, n, h*w*c, lam)
		}
	}
	return mixedTargets(targets, labels, classes, p.LabelSmoothing, lam), lam
}

// mixup sets image i to lam*orig[i] + (1-lam)*orig[n-1-i].
func mixup(images, orig []uint8, n, size int, lam float64) {
	for i := 0; i < n; i++ {
		a := orig[i*size : (i+1)*size]
		b := orig[(n-1-i)*size : (n-i)*size]
		dst := images[i*size : (i+1)*size]
		for k := range dst {
			dst[k] = clampUint8(lam*float64(a[k]) + (1-lam)*float64(b[k]))
		}
	}
}

// cutMix pastes the same random box of orig[n-1-i] into each image i and
// returns lambda corrected to the box's true area, as timm's rand_bbox does.
func cutMix(images, orig []uint8, n, h, w, c int, lam float64, rng *rand.Rand) float64 {
	ratio := math.Sqrt(1 - lam)
	cutH, cutW := int(float64(h)*ratio), int(float64(w)*ratio)
	cy, cx := rng.IntN(h), rng.IntN(w)
	y0, y1 := max(0, cy-cutH/2), min(h, cy+cutH/2)
	x0, x1 := max(0, cx-cutW/2), min(w, cx+cutW/2)
	size := h * w * c
	for i := 0; i < n; i++ {
		src := orig[(n-1-i)*size:]
		dst := images[i*size:]
		for y := y0; y < y1; y++ {
			row := (y*w + x0) * c
			copy(dst[row:row+(x1-x0)*c], src[row:row+(x1-x0)*c])
		}
	}
	return 1 - float64((y1-y0)*(x1-x0))/float64(h*w)
}

// mixedTargets writes lam*smooth(onehot(labels[i])) +
// (1-lam)*smooth(onehot(labels[n-1-i])) for each row.
func mixedTargets(targets []float32, labels []int32, classes int, smoothing, lam float64) []float32 {
	n := len(labels)
	if cap(targets) < n*classes {
		targets = make([]float32, n*classes)
	}
	targets = targets[:n*classes]
	off := smoothing / float64(classes)
	on := 1 - smoothing + off
	for i := 0; i < n; i++ {
		row := targets[i*classes : (i+1)*classes]
		for k := range row {
			row[k] = float32(off)
		}
		row[labels[i]] += float32(lam * (on - off))
		row[labels[n-1-i]] += float32((1 - lam) * (on - off))
	}
	return targets
}
