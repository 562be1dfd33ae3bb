package data

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

// patternImage returns an h x w x c image with varied, reproducible pixels.
func patternImage(h, w, c int, seed uint64) Image {
	rng := rand.New(rand.NewPCG(seed, 1))
	img := NewImage(h, w, c)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			for ch := 0; ch < c; ch++ {
				img.Pix[(y*w+x)*c+ch] = uint8((x*9+y*5+ch*70)%256/2 + rng.IntN(100))
			}
		}
	}
	return img
}

func TestRandomResizedCropShapeAndDeterminism(t *testing.T) {
	src := patternImage(37, 23, 3, 1)
	for _, size := range [][2]int{{16, 16}, {40, 33}, {1, 1}} {
		a := RandomResizedCrop(src, size[0], size[1], CropParams{}, SampleRand(7, 2, 5))
		b := RandomResizedCrop(src, size[0], size[1], CropParams{}, SampleRand(7, 2, 5))
		if a.H != size[0] || a.W != size[1] || a.C != 3 || len(a.Pix) != size[0]*size[1]*3 {
			t.Fatalf("crop to %v gave %dx%dx%d with %d bytes", size, a.H, a.W, a.C, len(a.Pix))
		}
		if !bytes.Equal(a.Pix, b.Pix) {
			t.Fatalf("crop to %v differs between two generators with the same seed", size)
		}
	}
	a := RandomResizedCrop(src, 16, 16, CropParams{}, SampleRand(7, 2, 5))
	c := RandomResizedCrop(src, 16, 16, CropParams{}, SampleRand(7, 2, 6))
	if bytes.Equal(a.Pix, c.Pix) {
		t.Fatal("crops of different samples are identical")
	}
}

func TestRandomResizedCropBoxStaysInside(t *testing.T) {
	rng := SampleRand(1, 0, 0)
	p := CropParams{}.withDefaults()
	for i := 0; i < 2000; i++ {
		h, w := 1+rng.IntN(50), 1+rng.IntN(50)
		b := randomCropBox(h, w, p, rng)
		if b.w < 1 || b.h < 1 || b.x < 0 || b.y < 0 || b.x+b.w > w || b.y+b.h > h {
			t.Fatalf("box %+v outside %dx%d", b, h, w)
		}
	}
}

func TestFullCropOfSameSizeIsIdentity(t *testing.T) {
	src := patternImage(12, 12, 1, 2)
	out := RandomResizedCrop(src, 12, 12, CropParams{ScaleMin: 1, ScaleMax: 1, RatioMin: 1, RatioMax: 1}, SampleRand(1, 1, 1))
	if !bytes.Equal(out.Pix, src.Pix) {
		t.Fatal("a whole-image crop resized to the same size changed the pixels")
	}
}

func TestResizeShorterCenterCrop(t *testing.T) {
	src := patternImage(10, 20, 3, 3)
	out := ResizeShorterCenterCrop(src, 5)
	if out.H != 5 || out.W != 5 || len(out.Pix) != 75 {
		t.Fatalf("got %dx%d with %d bytes", out.H, out.W, len(out.Pix))
	}
	// A 2x downscale with half-pixel centers averages 2x2 blocks: output
	// (0,0) comes from source rows 0-1, columns 5-6 (the centered 10x10).
	for ch := 0; ch < 3; ch++ {
		sum := 0
		for _, p := range [][2]int{{0, 5}, {0, 6}, {1, 5}, {1, 6}} {
			sum += int(src.Pix[(p[0]*20+p[1])*3+ch])
		}
		if d := int(out.Pix[ch]) - (sum+2)/4; d < -1 || d > 1 {
			t.Fatalf("channel %d: got %d, want about %d", ch, out.Pix[ch], sum/4)
		}
	}
}

func TestHorizontalFlip(t *testing.T) {
	src := patternImage(3, 5, 3, 4)
	img := src.Clone()
	HorizontalFlip(img)
	for y := 0; y < 3; y++ {
		for x := 0; x < 5; x++ {
			for ch := 0; ch < 3; ch++ {
				if img.Pix[(y*5+x)*3+ch] != src.Pix[(y*5+4-x)*3+ch] {
					t.Fatalf("(%d,%d,%d) is not the mirror", y, x, ch)
				}
			}
		}
	}
	HorizontalFlip(img)
	if !bytes.Equal(img.Pix, src.Pix) {
		t.Fatal("flipping twice is not the identity")
	}
}

// TestResizeBoxMatchesFloat64 compares the fixed-point bilinear resize with
// the float64 formula on random boxes, sizes and channel counts: every
// output within one level.
func TestResizeBoxMatchesFloat64(t *testing.T) {
	rng := SampleRand(3, 0, 0)
	for i := 0; i < 200; i++ {
		c := []int{1, 3, 4}[i%3]
		h, w := 1+rng.IntN(40), 1+rng.IntN(40)
		src := patternImage(h, w, c, uint64(i))
		box := randomCropBox(h, w, CropParams{}.withDefaults(), rng)
		outH, outW := 1+rng.IntN(50), 1+rng.IntN(50)
		got := resizeBox(nil, src, box, outH, outW)
		x0, x1, wx := bilinearTaps(box.x, box.w, outW, w)
		y0, y1, wy := bilinearTaps(box.y, box.h, outH, h)
		for oy := 0; oy < outH; oy++ {
			for ox := 0; ox < outW; ox++ {
				for ch := 0; ch < c; ch++ {
					at := func(y, x int) float64 { return float64(src.Pix[(y*w+x)*c+ch]) }
					top := at(y0[oy], x0[ox]) + wx[ox]*(at(y0[oy], x1[ox])-at(y0[oy], x0[ox]))
					bot := at(y1[oy], x0[ox]) + wx[ox]*(at(y1[oy], x1[ox])-at(y1[oy], x0[ox]))
					want := top + wy[oy]*(bot-top)
					if d := float64(got.Pix[(oy*outW+ox)*c+ch]) - want; d < -1 || d > 1 {
						t.Fatalf("case %d (%dx%dx%d box %+v -> %dx%d): (%d,%d,%d) = %d, float64 %.3f",
							i, h, w, c, box, outH, outW, oy, ox, ch, got.Pix[(oy*outW+ox)*c+ch], want)
					}
				}
			}
		}
	}
}
