package data

import (
	"fmt"
	"math/rand/v2"
)

// RandAugmentOp names one of RandAugment's image operations.
type RandAugmentOp int

// The 14 RandAugment operations (Cubuk et al. 2020, as in torchvision).
const (
	OpIdentity RandAugmentOp = iota
	OpAutoContrast
	OpEqualize
	OpRotate
	OpSolarize
	OpColor
	OpPosterize
	OpContrast
	OpBrightness
	OpSharpness
	OpShearX
	OpShearY
	OpTranslateX
	OpTranslateY
	NumRandAugmentOps // the number of operations, not an operation
)

// RandAugmentMaxMagnitude is the top of the magnitude scale (31 bins, 0..30).
const RandAugmentMaxMagnitude = 30

// randAugmentFill is the value geometric operations write where the source
// has no pixel (torchvision's default fill of 0).
const randAugmentFill = 0

var randAugmentOpNames = [NumRandAugmentOps]string{
	"Identity", "AutoContrast", "Equalize", "Rotate", "Solarize", "Color", "Posterize",
	"Contrast", "Brightness", "Sharpness", "ShearX", "ShearY", "TranslateX", "TranslateY",
}

// String returns the operation's name, e.g. "ShearX".
func (op RandAugmentOp) String() string {
	if op < 0 || op >= NumRandAugmentOps {
		return fmt.Sprintf("RandAugmentOp(%d)", int(op))
	}
	return randAugmentOpNames[op]
}

// Signed reports whether the operation has a direction that RandAugment
// flips at random (rotations, shears, translations and the enhance factors).
func (op RandAugmentOp) Signed() bool {
	switch op {
	case OpRotate, OpShearX, OpShearY, OpTranslateX, OpTranslateY,
		OpColor, OpContrast, OpBrightness, OpSharpness:
		return true
	}
	return false
}

// RandAugment applies n operations to img in place, each chosen uniformly
// (with replacement) and each signed one negated with probability 1/2, at
// magnitude in [0, 30] (clamped).
func RandAugment(img Image, n int, magnitude float64, rng *rand.Rand) {
	var a augmenter
	a.randAugment(img, n, magnitude, rng)
}

// ApplyRandAugmentOp applies op at magnitude in [0, 30] (clamped) to img in
// place; negate reverses the direction of a signed operation.
func ApplyRandAugmentOp(img Image, op RandAugmentOp, magnitude float64, negate bool) {
	var a augmenter
	a.apply(img, op, magnitude, negate)
}

// augmenter holds scratch memory reused across operations by one worker.
type augmenter struct {
	scratch []uint8
}

// randAugment is RandAugment with the augmenter's scratch memory.
func (a *augmenter) randAugment(img Image, n int, magnitude float64, rng *rand.Rand) {
	for k := 0; k < n; k++ {
		op := RandAugmentOp(rng.IntN(int(NumRandAugmentOps)))
		negate := rng.IntN(2) == 1
		a.apply(img, op, magnitude, negate)
	}
}

// apply runs one operation; its strength is the magnitude's fraction of the
// scale times the operation's range, as in torchvision's RandAugment.
func (a *augmenter) apply(img Image, op RandAugmentOp, magnitude float64, negate bool) {
	frac := max(0, min(magnitude, RandAugmentMaxMagnitude)) / RandAugmentMaxMagnitude
	sign := 1.0
	if negate && op.Signed() {
		sign = -1
	}
	switch op {
	case OpIdentity:
	case OpAutoContrast:
		autoContrast(img)
	case OpEqualize:
		equalize(img)
	case OpSolarize:
		solarize(img, 256*(1-frac))
	case OpPosterize:
		posterize(img, 8-int(frac*4+0.5))
	case OpColor:
		adjustColor(img, 1+sign*0.9*frac)
	case OpContrast:
		adjustContrast(img, 1+sign*0.9*frac)
	case OpBrightness:
		adjustBrightness(img, 1+sign*0.9*frac)
	case OpSharpness:
		a.adjustSharpness(img, 1+sign*0.9*frac)
	case OpRotate:
		a.warp(img, rotation(img, sign*30*frac))
	case OpShearX:
		a.warp(img, shearX(img, sign*0.3*frac))
	case OpShearY:
		a.warp(img, shearY(img, sign*0.3*frac))
	case OpTranslateX:
		a.warp(img, translation(float64(int(sign*frac*150.0/331.0*float64(img.W))), 0))
	case OpTranslateY:
		a.warp(img, translation(0, float64(int(sign*frac*150.0/331.0*float64(img.H)))))
	}
}

// copyToScratch copies img into the augmenter's scratch memory.
func (a *augmenter) copyToScratch(img Image) Image {
	src := reshape(a.scratch, img.H, img.W, img.C)
	a.scratch = src.Pix
	copy(src.Pix, img.Pix)
	return src
}
