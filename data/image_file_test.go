package data_test

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/data"
)

func writePNG(t *testing.T, img image.Image) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "x.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestReadImageFile(t *testing.T) {
	src := image.NewNRGBA(image.Rect(0, 0, 5, 3))
	for y := range 3 {
		for x := range 5 {
			src.Set(x, y, color.NRGBA{uint8(10 * x), uint8(20 * y), uint8(x + y), 255})
		}
	}
	img, err := data.ReadImageFile(writePNG(t, src))
	if err != nil {
		t.Fatal(err)
	}
	if img.H != 3 || img.W != 5 || img.C != 3 {
		t.Fatalf("read %dx%dx%d, want 3x5x3", img.H, img.W, img.C)
	}
	for y := range 3 {
		for x := range 5 {
			i := 3 * (y*5 + x)
			if img.Pix[i] != uint8(10*x) || img.Pix[i+1] != uint8(20*y) || img.Pix[i+2] != uint8(x+y) {
				t.Fatalf("pixel (%d, %d) = %v", x, y, img.Pix[i:i+3])
			}
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.png")
	os.WriteFile(bad, []byte("not an image"), 0o644)
	if _, err := data.ReadImageFile(bad); !errors.Is(err, data.ErrCorruptImage) || !strings.Contains(err.Error(), "bad.png") {
		t.Fatalf("corrupt file: %v, want ErrCorruptImage naming bad.png", err)
	}
	if _, err := data.ReadImageFile(filepath.Join(t.TempDir(), "none.png")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}

func TestFitImage(t *testing.T) {
	// Same size: kept; to one channel: the rounded BT.601 luma.
	img := data.NewImage(2, 2, 3)
	copy(img.Pix, []uint8{255, 0, 0, 0, 255, 0, 0, 0, 255, 10, 10, 10})
	g, err := data.FitImage(img, 2, 2, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := []uint8{76, 150, 29, 10} // 0.299*255, 0.587*255, 0.114*255 rounded
	if g.C != 1 || string(g.Pix) != string(want) {
		t.Fatalf("luma %v (C %d), want %v", g.Pix, g.C, want)
	}
	// Another size: shorter side resized, center cropped to the square.
	big := data.NewImage(40, 60, 3)
	f, err := data.FitImage(big, 28, 28, 3)
	if err != nil {
		t.Fatal(err)
	}
	if f.H != 28 || f.W != 28 || f.C != 3 {
		t.Fatalf("fitted to %dx%dx%d, want 28x28x3", f.H, f.W, f.C)
	}
	if _, err := data.FitImage(big, 28, 28, 2); err == nil || !strings.Contains(err.Error(), "2 channels") {
		t.Fatalf("2 channels: %v", err)
	}
	if _, err := data.FitImage(g, 2, 2, 1); err == nil || !strings.Contains(err.Error(), "RGB") {
		t.Fatalf("gray input: %v", err)
	}
}
