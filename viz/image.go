package viz

import (
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
)

// ToImage turns w x h packed pixels (Color.Pack(bgra)) into an RGBA image.
func ToImage(px []uint32, w, h int, bgra bool) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < w*h && i < len(px); i++ {
		c := Unpack(px[i], bgra)
		img.Pix[4*i], img.Pix[4*i+1], img.Pix[4*i+2], img.Pix[4*i+3] = c.R, c.G, c.B, 255
	}
	return img
}

// WritePNG writes img to path (through a temporary file, renamed into
// place).
func WritePNG(path string, img image.Image) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".viz-*.png")
	if err != nil {
		return fmt.Errorf("viz: writing screenshot %s: %v", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o644); err != nil { // CreateTemp makes it 0600; an image is for sharing
		tmp.Close()
		return fmt.Errorf("viz: writing screenshot %s: %v", path, err)
	}
	if err := png.Encode(tmp, img); err != nil {
		tmp.Close()
		return fmt.Errorf("viz: encoding screenshot %s: %v", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("viz: writing screenshot %s: %v", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("viz: writing screenshot %s: %v", path, err)
	}
	return nil
}
