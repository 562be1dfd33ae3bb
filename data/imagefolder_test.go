package data

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"path/filepath"
	"strings"
	"testing"
)

// pngBytes encodes img as PNG.
func pngBytes(t *testing.T, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// solidNRGBA returns an h x w image of one color.
func solidNRGBA(h, w int, c color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			img.SetNRGBA(x, y, c)
		}
	}
	return img
}

// makeFolder writes root/{cat,dog} with 8x6 images and returns the root.
// cat: a.png (red), b.jpg (gray JPEG); dog: c.png (a gray PNG of 77),
// notes.txt (ignored).
func makeFolder(t *testing.T) string {
	t.Helper()
	root := t.TempDir()
	mkdir(t, filepath.Join(root, "dog"))
	mkdir(t, filepath.Join(root, "cat"))
	writeFile(t, filepath.Join(root, "cat"), "a.png", pngBytes(t, solidNRGBA(8, 6, color.NRGBA{200, 10, 20, 255})))
	var jb bytes.Buffer
	if err := jpeg.Encode(&jb, solidNRGBA(8, 6, color.NRGBA{128, 128, 128, 255}), &jpeg.Options{Quality: 95}); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "cat"), "b.JPG", jb.Bytes())
	gray := image.NewGray(image.Rect(0, 0, 6, 8))
	for i := range gray.Pix {
		gray.Pix[i] = 77
	}
	writeFile(t, filepath.Join(root, "dog"), "c.png", pngBytes(t, gray))
	writeFile(t, filepath.Join(root, "dog"), "notes.txt", []byte("not an image"))
	return root
}

func TestImageFolderListsClassesAndDecodesToRGB(t *testing.T) {
	ds, err := OpenImageFolder(makeFolder(t))
	if err != nil {
		t.Fatal(err)
	}
	if names := ds.ClassNames(); len(names) != 2 || names[0] != "cat" || names[1] != "dog" {
		t.Fatalf("classes %q, want [cat dog]", names)
	}
	if ds.Len() != 3 || ds.Label(0) != 0 || ds.Label(1) != 0 || ds.Label(2) != 1 || ds.Channels() != 3 {
		t.Fatalf("len %d labels %d %d %d", ds.Len(), ds.Label(0), ds.Label(1), ds.Label(2))
	}
	want := [][3]int{{200, 10, 20}, {128, 128, 128}, {77, 77, 77}}
	for i, c := range want {
		pix, h, w, err := ds.Image(i)
		if err != nil || h != 8 || w != 6 || len(pix) != 8*6*3 {
			t.Fatalf("%s: %d bytes %dx%d %v", ds.Name(i), len(pix), h, w, err)
		}
		for ch := 0; ch < 3; ch++ {
			if d := int(pix[5*3+ch]) - c[ch]; d < -2 || d > 2 { // JPEG may be off by a little
				t.Fatalf("%s: pixel 5 = %v, want %v", ds.Name(i), pix[15:18], c)
			}
		}
	}
}

func TestImageFolderRejectsEmptyTrees(t *testing.T) {
	root := t.TempDir()
	if _, err := OpenImageFolder(root); err == nil || !strings.Contains(err.Error(), "no class subfolders") {
		t.Fatalf("empty root: error %v", err)
	}
	mkdir(t, filepath.Join(root, "empty"))
	if _, err := OpenImageFolder(root); err == nil || !strings.Contains(err.Error(), filepath.Join(root, "empty")) {
		t.Fatalf("empty class: error %v", err)
	}
}

func TestCorruptPNGIsNamedOrSkipped(t *testing.T) {
	root := makeFolder(t)
	good := pngBytes(t, solidNRGBA(8, 6, color.NRGBA{1, 2, 3, 255}))
	bad := writeFile(t, filepath.Join(root, "dog"), "d.png", good[:len(good)/2])
	ds, err := OpenImageFolder(root)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := ds.Image(3); err == nil || !errors.Is(err, ErrCorruptImage) || !strings.Contains(err.Error(), bad) {
		t.Fatalf("Image of the cut PNG: error %v, want ErrCorruptImage naming %s", err, bad)
	}

	// Without SkipCorrupt, Next reports the file.
	l, err := NewLoader(ds, Options{BatchSize: 2, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var nextErr error
	for nextErr == nil {
		_, nextErr = l.Next()
	}
	l.Close()
	if !strings.Contains(nextErr.Error(), bad) {
		t.Fatalf("loader error %v, want one naming %s", nextErr, bad)
	}

	// With SkipCorrupt, the epoch completes with full batches and counts it.
	l, err = NewLoader(ds, Options{BatchSize: 2, Workers: 2, SkipCorrupt: true})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	samples := 0
	for {
		b, err := l.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, idx := range b.Indices {
			if idx == 3 {
				t.Fatal("the corrupt sample made it into a batch")
			}
		}
		samples += b.N
	}
	if samples != 4 || l.Skipped() != 1 || l.SkippedNames()[0] != bad {
		t.Fatalf("samples %d skipped %d %q, want 4, 1 [%s]", samples, l.Skipped(), l.SkippedNames(), bad)
	}
}
