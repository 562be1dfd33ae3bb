package viz

import (
	"image"
	"image/png"
	"os"
	"testing"
)

// readPNG decodes the PNG file at path as RGBA, failing t if it cannot.
func readPNG(t *testing.T, path string) *image.RGBA {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	decoded, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	if img, ok := decoded.(*image.RGBA); ok {
		return img
	}
	b := decoded.Bounds()
	img := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		for x := 0; x < b.Dx(); x++ {
			img.Set(x, y, decoded.At(b.Min.X+x, b.Min.Y+y))
		}
	}
	return img
}
