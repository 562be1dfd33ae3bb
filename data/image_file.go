package data

import (
	"fmt"
	"image"
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"os"
)

// ReadImageFile decodes a PNG or JPEG file into an RGB image (gray files
// are expanded to three equal channels). A file that does not decode gives
// an error wrapping ErrCorruptImage and naming it.
func ReadImageFile(path string) (Image, error) {
	f, err := os.Open(path)
	if err != nil {
		return Image{}, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	src, _, err := image.Decode(f)
	if err != nil {
		return Image{}, fmt.Errorf("data: %s: %w (want PNG or JPEG): %v", path, ErrCorruptImage, err)
	}
	b := src.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return Image{}, fmt.Errorf("data: %s: %w: empty image", path, ErrCorruptImage)
	}
	return reshape(toRGB(src), b.Dy(), b.Dx(), 3), nil
}

// FitImage turns an RGB image into what a model trained on h x w images of
// c channels takes: the shorter side resized to max(h, w) and the center
// cropped (as ResizeShorterCenterCrop), then, for c = 1, the luma (ITU-R
// BT.601 weights, rounded).
func FitImage(img Image, h, w, c int) (Image, error) {
	if img.C != 3 {
		return Image{}, fmt.Errorf("data: fit an image of %d channels: want RGB", img.C)
	}
	if c != 1 && c != 3 {
		return Image{}, fmt.Errorf("data: fit to %d channels: want 1 or 3", c)
	}
	if img.H != h || img.W != w {
		img = ResizeShorterCenterCrop(img, max(h, w))
	}
	if c == 3 {
		return img, nil
	}
	gray := NewImage(img.H, img.W, 1)
	for i := range gray.Pix {
		r, g, b := float64(img.Pix[3*i]), float64(img.Pix[3*i+1]), float64(img.Pix[3*i+2])
		gray.Pix[i] = uint8(0.299*r + 0.587*g + 0.114*b + 0.5)
	}
	return gray, nil
}
