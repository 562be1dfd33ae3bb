package data

import (
	"bytes"
	"testing"
)

func TestEveryRandAugmentOpKeepsShapeAndIsDeterministic(t *testing.T) {
	for _, c := range []int{1, 3} {
		src := patternImage(19, 23, c, 5) // > 255 pixels, or Equalize has no step
		for op := RandAugmentOp(0); op < NumRandAugmentOps; op++ {
			for _, negate := range []bool{false, true} {
				a, b := src.Clone(), src.Clone()
				ApplyRandAugmentOp(a, op, 17, negate)
				ApplyRandAugmentOp(b, op, 17, negate)
				if a.H != 19 || a.W != 23 || a.C != c || len(a.Pix) != 19*23*c {
					t.Fatalf("%v: shape changed to %dx%dx%d (%d bytes)", op, a.H, a.W, a.C, len(a.Pix))
				}
				if !bytes.Equal(a.Pix, b.Pix) {
					t.Fatalf("%v: two runs differ", op)
				}
				changes := op != OpIdentity && !(op == OpColor && c == 1)
				if changes && bytes.Equal(a.Pix, src.Pix) {
					t.Fatalf("%v (C=%d, negate=%v) at magnitude 17 left the image unchanged", op, c, negate)
				}
			}
		}
	}
}

func TestRandAugmentOpsAtMagnitudeZeroAreIdentity(t *testing.T) {
	src := patternImage(9, 11, 3, 6)
	for op := RandAugmentOp(0); op < NumRandAugmentOps; op++ {
		if op == OpAutoContrast || op == OpEqualize {
			continue // no magnitude
		}
		img := src.Clone()
		ApplyRandAugmentOp(img, op, 0, true)
		if !bytes.Equal(img.Pix, src.Pix) {
			t.Fatalf("%v at magnitude 0 changed the image", op)
		}
	}
}

func TestRandAugmentOpValues(t *testing.T) {
	src := patternImage(6, 8, 1, 7)
	at := func(img Image, y, x int) int { return int(img.Pix[y*img.W+x]) }

	img := src.Clone()
	ApplyRandAugmentOp(img, OpSolarize, 30, false) // threshold 0: invert all
	for i := range img.Pix {
		if img.Pix[i] != 255-src.Pix[i] {
			t.Fatalf("solarize at 30: pixel %d = %d, want %d", i, img.Pix[i], 255-src.Pix[i])
		}
	}

	img = src.Clone()
	ApplyRandAugmentOp(img, OpPosterize, 30, false) // 4 bits
	for i := range img.Pix {
		if img.Pix[i] != src.Pix[i]&0xf0 {
			t.Fatalf("posterize at 30: pixel %d = %#x, want %#x", i, img.Pix[i], src.Pix[i]&0xf0)
		}
	}

	img = src.Clone()
	ApplyRandAugmentOp(img, OpAutoContrast, 0, false)
	lo, hi := 255, 0
	for _, v := range img.Pix {
		lo, hi = min(lo, int(v)), max(hi, int(v))
	}
	if lo != 0 || hi != 255 {
		t.Fatalf("autocontrast range %d..%d, want 0..255", lo, hi)
	}

	// Translate x at magnitude 30 moves by int(150/331*8) = 3 pixels, the
	// direction set by negate, and fills with 0.
	img = src.Clone()
	ApplyRandAugmentOp(img, OpTranslateX, 30, false)
	for y := 0; y < 6; y++ {
		for x := 0; x < 8; x++ {
			want := 0
			if x >= 3 {
				want = at(src, y, x-3)
			}
			if at(img, y, x) != want {
				t.Fatalf("translate x: (%d,%d) = %d, want %d", y, x, at(img, y, x), want)
			}
		}
	}

	// Brightness at magnitude 30 negated has factor 1-0.9.
	magnitude := 30.0 // a variable, so factor is float64 arithmetic like the op's
	factor := 1 - 0.9*magnitude/RandAugmentMaxMagnitude
	img = src.Clone()
	ApplyRandAugmentOp(img, OpBrightness, magnitude, true)
	for i := range img.Pix {
		if want := clampUint8(factor * float64(src.Pix[i])); img.Pix[i] != want {
			t.Fatalf("brightness 1-0.9: pixel %d = %d, want %d", i, img.Pix[i], want)
		}
	}
}

func TestWarpShiftMatchesMovedPixels(t *testing.T) {
	src := patternImage(6, 7, 3, 10)
	for _, d := range [][2]int{{-2, 1}, {3, -4}, {0, 0}, {7, 0}, {0, -6}} {
		img := src.Clone()
		var a augmenter
		a.warp(img, translation(float64(d[0]), float64(d[1])))
		for y := 0; y < 6; y++ {
			for x := 0; x < 7; x++ {
				for ch := 0; ch < 3; ch++ {
					want := uint8(randAugmentFill)
					if sx, sy := x-d[0], y-d[1]; sx >= 0 && sx < 7 && sy >= 0 && sy < 6 {
						want = src.Pix[(sy*7+sx)*3+ch]
					}
					if got := img.Pix[(y*7+x)*3+ch]; got != want {
						t.Fatalf("shift %v: (%d,%d,%d) = %d, want %d", d, y, x, ch, got, want)
					}
				}
			}
		}
	}
}

func TestRotateBy90DegreesOnASquareIsExact(t *testing.T) {
	// rotation by 30*frac degrees cannot reach 90, so test the helper.
	src := patternImage(5, 5, 1, 8)
	img := src.Clone()
	var a augmenter
	a.warp(img, rotation(img, 90))
	for y := 0; y < 5; y++ {
		for x := 0; x < 5; x++ {
			// Counterclockwise: output (y, x) shows source (x, 4-y).
			if img.Pix[y*5+x] != src.Pix[x*5+4-y] {
				t.Fatalf("(%d,%d) = %d, want source (%d,%d) = %d", y, x, img.Pix[y*5+x], x, 4-y, src.Pix[x*5+4-y])
			}
		}
	}
}

func TestEqualizeSpreadsAHistogram(t *testing.T) {
	img := NewImage(64, 64, 1)
	for i := range img.Pix {
		img.Pix[i] = uint8(100 + i%8) // eight levels crowded together
	}
	equalize(img)
	lo, hi := 255, 0
	for _, v := range img.Pix {
		lo, hi = min(lo, int(v)), max(hi, int(v))
	}
	if lo != 0 || hi < 200 {
		t.Fatalf("equalized range %d..%d, want 0..>=200", lo, hi)
	}
}

func TestRandAugmentIsDeterministicPerSeed(t *testing.T) {
	src := patternImage(20, 20, 3, 9)
	a, b, c := src.Clone(), src.Clone(), src.Clone()
	RandAugment(a, 2, 9, SampleRand(3, 1, 4))
	RandAugment(b, 2, 9, SampleRand(3, 1, 4))
	RandAugment(c, 2, 9, SampleRand(3, 1, 5))
	if !bytes.Equal(a.Pix, b.Pix) {
		t.Fatal("same seed, different result")
	}
	if bytes.Equal(a.Pix, c.Pix) {
		t.Fatal("different sample index, same result")
	}
	if OpShearX.String() != "ShearX" || RandAugmentOp(99).String() != "RandAugmentOp(99)" {
		t.Fatal("op names")
	}
}
