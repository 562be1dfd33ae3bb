package data

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"math"
	"path/filepath"
	"testing"
)

// Tolerances of libjpeg-turbo's pixels against the standard library's, per
// channel level (0..255). Full size: both use an accurate integer inverse
// DCT and replicate chroma, and differ only in rounding. Reduced DCT scales
// against the standard decode averaged over the same k x k blocks: the
// scaled IDCT is a different low-pass filter than a box average, so edges
// differ more, and the mean stays small.
const (
	jpegFullMaxDiff   = 4
	jpegFullMeanDiff  = 0.3
	jpegScaledMean    = 1.0
	jpegScaledMaxDiff = 24
)

// testJPEG encodes a deterministic smooth colour image with edges (gradients,
// a disc, a bar) at quality 90, or a grayscale one.
func testJPEG(t testing.TB, h, w int, gray bool) []byte {
	t.Helper()
	var img image.Image
	rgba := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			r := 128 + 100*math.Sin(float64(x)/17+float64(y)/29)
			g := 255 * float64(y) / float64(h)
			b := 128 + 90*math.Cos(float64(x*y)/900)
			dx, dy := float64(x-w/3), float64(y-h/2)
			if dx*dx+dy*dy < float64(h*h)/16 {
				r, g, b = 230, 40, 60
			}
			if x > 2*w/3 && x < 2*w/3+w/12 {
				r, g, b = 20, 200, 240
			}
			rgba.SetRGBA(x, y, color.RGBA{uint8(r), uint8(g), uint8(b), 255})
		}
	}
	img = rgba
	if gray {
		g := image.NewGray(rgba.Bounds())
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				g.Set(x, y, rgba.At(x, y))
			}
		}
		img = g
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 90}); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestDecodeJPEGTurboMatchesStdlib decodes JPEGs of odd and even sizes,
// colour (4:2:0) and grayscale, with libjpeg-turbo and with image/jpeg and
// checks every pixel within the stated tolerance.
func TestDecodeJPEGTurboMatchesStdlib(t *testing.T) {
	for _, c := range []struct {
		h, w int
		gray bool
	}{{375, 500, false}, {37, 53, false}, {1, 9, false}, {64, 64, true}, {81, 17, true}} {
		raw := testJPEG(t, c.h, c.w, c.gray)
		got, h, w, err := decodeJPEGTurbo(raw, 0)
		if err != nil {
			t.Fatalf("%dx%d gray=%v: %v", c.w, c.h, c.gray, err)
		}
		want, wh, ww, err := decodeRGBStdlib(raw)
		if err != nil {
			t.Fatal(err)
		}
		if h != wh || w != ww || h != c.h || w != c.w {
			t.Fatalf("%dx%d: turbo gave %dx%d, stdlib %dx%d", c.w, c.h, w, h, ww, wh)
		}
		maxDiff, mean := pixelDiff(got, want)
		t.Logf("%dx%d gray=%v: max |diff| %d, mean %.3f", c.w, c.h, c.gray, maxDiff, mean)
		if maxDiff > jpegFullMaxDiff || mean > jpegFullMeanDiff {
			t.Errorf("%dx%d gray=%v: max |diff| %d (limit %d), mean %.3f (limit %.2f)",
				c.w, c.h, c.gray, maxDiff, jpegFullMaxDiff, mean, jpegFullMeanDiff)
		}
	}
}

// TestDecodeJPEGTurboScaled checks the scale choice and the reduced decodes
// against the standard library's full decode averaged over k x k blocks.
func TestDecodeJPEGTurboScaled(t *testing.T) {
	raw := testJPEG(t, 375, 500, false)
	full, _, _, err := decodeRGBStdlib(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		minSide, k, h, w int
	}{{0, 1, 375, 500}, {376, 1, 375, 500}, {224, 1, 375, 500}, {187, 2, 188, 250}, {188, 2, 188, 250},
		{189, 1, 375, 500}, {64, 4, 94, 125}, {47, 8, 47, 63}, {32, 8, 47, 63}} {
		got, h, w, err := decodeJPEGTurbo(raw, c.minSide)
		if err != nil {
			t.Fatal(err)
		}
		if h != c.h || w != c.w {
			t.Fatalf("minSide %d: decoded %dx%d, want %dx%d (scale 1/%d)", c.minSide, w, h, c.w, c.h, c.k)
		}
		want := boxAverage(full, 375, 500, c.k)
		// Compare the blocks every scale covers fully (the last partial
		// block is averaged differently).
		maxDiff, mean := pixelDiff(cropRGB(got, w, 375/c.k, 500/c.k), cropRGB(want, w, 375/c.k, 500/c.k))
		t.Logf("minSide %d, scale 1/%d: max |diff| %d, mean %.3f", c.minSide, c.k, maxDiff, mean)
		limitMax, limitMean := jpegScaledMaxDiff, jpegScaledMean
		if c.k == 1 {
			limitMax, limitMean = jpegFullMaxDiff, jpegFullMeanDiff
		}
		if maxDiff > limitMax || mean > limitMean {
			t.Errorf("minSide %d, scale 1/%d: max |diff| %d (limit %d), mean %.3f (limit %.2f)", c.minSide, c.k, maxDiff, limitMax, mean, limitMean)
		}
	}
}

// TestDecodeRGBBadJPEG: a truncated JPEG is retried with the standard
// library and reported as corrupt; a JPEG header with no image data too.
// A good JPEG decoded after them still honours its scale (a failed decode
// once left its handle ignoring the next scaling factor).
func TestDecodeRGBBadJPEG(t *testing.T) {
	raw := testJPEG(t, 64, 80, false)
	for name, bad := range map[string][]byte{
		"truncated": raw[:len(raw)/2], "header only": raw[:3], "garbage after the marker": append([]byte{0xFF, 0xD8, 0xFF}, bytes.Repeat([]byte{7}, 100)...),
	} {
		if _, _, _, err := DecodeRGB(bad, 0); !errors.Is(err, ErrCorruptImage) {
			t.Errorf("%s: error %v, want ErrCorruptImage", name, err)
		}
		if _, h, w, err := decodeJPEGTurbo(raw, 32); err != nil || h != 32 || w != 40 {
			t.Fatalf("after the %s JPEG: a 1/2-scale decode gave %dx%d, %v; want 40x32", name, w, h, err)
		}
	}
}

// pixelDiff returns the largest and the mean absolute difference.
func pixelDiff(a, b []uint8) (int, float64) {
	if len(a) != len(b) {
		return math.MaxInt, math.Inf(1)
	}
	maxDiff, sum := 0, 0
	for i := range a {
		d := int(a[i]) - int(b[i])
		if d < 0 {
			d = -d
		}
		maxDiff = max(maxDiff, d)
		sum += d
	}
	return maxDiff, float64(sum) / float64(max(1, len(a)))
}

// boxAverage averages an h x w RGB image over k x k blocks (the last ones
// partial), rounding up the output size as DCT scaling does.
func boxAverage(pix []uint8, h, w, k int) []uint8 {
	oh, ow := (h+k-1)/k, (w+k-1)/k
	out := make([]uint8, oh*ow*3)
	for oy := 0; oy < oh; oy++ {
		for ox := 0; ox < ow; ox++ {
			for c := 0; c < 3; c++ {
				sum, n := 0, 0
				for y := oy * k; y < min(h, oy*k+k); y++ {
					for x := ox * k; x < min(w, ox*k+k); x++ {
						sum += int(pix[(y*w+x)*3+c])
						n++
					}
				}
				out[(oy*ow+ox)*3+c] = uint8((sum + n/2) / n)
			}
		}
	}
	return out
}

// cropRGB returns the top-left h x w of an RGB image with the given row
// width.
func cropRGB(pix []uint8, width, h, w int) []uint8 {
	out := make([]uint8, 0, h*w*3)
	for y := 0; y < h; y++ {
		out = append(out, pix[y*width*3:(y*width+w)*3]...)
	}
	return out
}

// TestLoaderDecodesJPEGAtReducedScale: with Options.Size well below a JPEG's
// size the loader decodes it at a DCT scale (ImageAtLeast), through a Subset
// too, and its batch equals the same crop of that reduced decode;
// FullSizeDecode turns it off.
func TestLoaderDecodesJPEGAtReducedScale(t *testing.T) {
	root := t.TempDir()
	mkdir(t, filepath.Join(root, "a"))
	writeFile(t, filepath.Join(root, "a"), "x.jpg", testJPEG(t, 375, 500, false))
	ds, err := OpenImageFolder(root)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ minSide, h, w int }{{0, 375, 500}, {300, 375, 500}, {150, 188, 250}, {64, 94, 125}, {40, 47, 63}} {
		_, h, w, err := ds.ImageAtLeast(0, c.minSide)
		if err != nil || h != c.h || w != c.w {
			t.Fatalf("ImageAtLeast(0, %d): %dx%d, %v; want %dx%d", c.minSide, w, h, err, c.w, c.h)
		}
	}
	sub, err := Subset(ds, []int{0, 0})
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{BatchSize: 2, Size: 64, Workers: 1, Augment: Augment{RandomResizedCrop: true}}
	l, err := NewLoader(sub, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	b, err := l.Next()
	if err != nil {
		t.Fatal(err)
	}
	pix, h, w, err := ds.ImageAtLeast(0, 64)
	if err != nil {
		t.Fatal(err)
	}
	src := Image{Pix: pix, H: h, W: w, C: 3}
	for k := 0; k < 2; k++ {
		resolved, _ := opts.resolved(sub)
		want := RandomResizedCrop(src, 64, 64, resolved.Augment.Crop, SampleRand(opts.Seed, opts.Epoch, k))
		if !bytes.Equal(b.Images[k*64*64*3:(k+1)*64*64*3], want.Pix) {
			t.Fatalf("sample %d is not the crop of the 1/4-scale decode", k)
		}
	}
	opts.FullSizeDecode = true
	full, err := NewLoader(sub, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer full.Close()
	fb, err := full.Next()
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(fb.Images, b.Images) {
		t.Fatal("FullSizeDecode gave the same pixels as the 1/4-scale decode")
	}
	pix, h, w, err = ds.Image(0)
	if err != nil {
		t.Fatal(err)
	}
	resolved, _ := opts.resolved(sub)
	want := RandomResizedCrop(Image{Pix: pix, H: h, W: w, C: 3}, 64, 64, resolved.Augment.Crop, SampleRand(opts.Seed, opts.Epoch, 0))
	if !bytes.Equal(fb.Images[:64*64*3], want.Pix) {
		t.Fatal("with FullSizeDecode, sample 0 is not the crop of the full decode")
	}
}
