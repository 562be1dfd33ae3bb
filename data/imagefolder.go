package data

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	_ "image/jpeg" // register the JPEG decoder
	_ "image/png"  // register the PNG decoder
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ImageFolder is a dataset laid out as root/<class>/<image>.{jpg,jpeg,png}.
// Classes are the sorted subfolder names; files are listed at open time and
// decoded lazily, to RGB, by Image.
type ImageFolder struct {
	root    string
	classes []string
	paths   []string
	labels  []int
}

// OpenImageFolder lists the images under root. Files with other extensions
// are ignored; a class folder without images, or a root without class
// folders, is an error.
func OpenImageFolder(root string) (*ImageFolder, error) {
	entries, err := os.ReadDir(root)
	if err != nil {
		return nil, fmt.Errorf("data: image folder: %w", err)
	}
	f := &ImageFolder{root: root}
	for _, e := range entries {
		if e.IsDir() {
			f.classes = append(f.classes, e.Name())
		}
	}
	sort.Strings(f.classes)
	if len(f.classes) == 0 {
		return nil, fmt.Errorf("data: image folder %s has no class subfolders (want root/<class>/*.jpg|png)", root)
	}
	for label, class := range f.classes {
		dir := filepath.Join(root, class)
		files, err := os.ReadDir(dir)
		if err != nil {
			return nil, fmt.Errorf("data: image folder: %w", err)
		}
		var names []string
		for _, file := range files {
			if !file.IsDir() && isImageFile(file.Name()) {
				names = append(names, file.Name())
			}
		}
		if len(names) == 0 {
			return nil, fmt.Errorf("data: image folder class %s has no .jpg, .jpeg or .png files", dir)
		}
		sort.Strings(names)
		for _, name := range names {
			f.paths = append(f.paths, filepath.Join(dir, name))
			f.labels = append(f.labels, label)
		}
	}
	return f, nil
}

// isImageFile reports whether name has an extension ImageFolder decodes.
func isImageFile(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".jpg", ".jpeg", ".png":
		return true
	}
	return false
}

// Len returns the number of image files.
func (f *ImageFolder) Len() int { return len(f.paths) }

// NumClasses returns the number of class folders.
func (f *ImageFolder) NumClasses() int { return len(f.classes) }

// ClassNames returns a copy of the sorted class folder names.
func (f *ImageFolder) ClassNames() []string { return append([]string(nil), f.classes...) }

// Channels returns 3: every image is converted to RGB.
func (f *ImageFolder) Channels() int { return 3 }

// Label returns the class index of sample i.
func (f *ImageFolder) Label(i int) int { return f.labels[i] }

// Name returns the file path of sample i.
func (f *ImageFolder) Name(i int) string { return f.paths[i] }

// Image reads and decodes sample i and returns it as RGB HWC pixels. A file
// that does not decode gives an error wrapping ErrCorruptImage and naming it.
func (f *ImageFolder) Image(i int) ([]uint8, int, int, error) {
	return f.ImageAtLeast(i, 0)
}

// ImageAtLeast is Image, decoding a JPEG at a reduced DCT scale (1/2, 1/4 or
// 1/8) when its shorter side stays at least minSide pixels: the loader asks
// for its output size, so a file much larger than the training size costs a
// fraction of a full decode. minSide 0 decodes at full size; other formats
// are always decoded at full size.
func (f *ImageFolder) ImageAtLeast(i, minSide int) ([]uint8, int, int, error) {
	if err := checkIndex("image folder "+f.root, i, len(f.paths)); err != nil {
		return nil, 0, 0, err
	}
	path := f.paths[i]
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("data: %w", err)
	}
	pix, h, w, err := DecodeRGB(raw, minSide)
	if err != nil {
		return nil, 0, 0, fmt.Errorf("data: %s: %w", path, err)
	}
	return pix, h, w, nil
}

// DecodeRGB decodes a JPEG or PNG file's bytes to packed RGB (HWC) pixels.
// JPEGs go through libjpeg-turbo, at the smallest DCT scale (1/1, 1/2, 1/4,
// 1/8) whose shorter side is still at least minSide (0: full size); a JPEG
// libjpeg-turbo rejects or decodes only with a warning (truncated, CMYK) is
// retried with the standard library at full size. Bytes that no decoder
// reads give an error wrapping ErrCorruptImage.
func DecodeRGB(raw []byte, minSide int) (pix []uint8, h, w int, err error) {
	if isJPEG(raw) {
		if pix, h, w, err = decodeJPEGTurbo(raw, minSide); err == nil {
			return pix, h, w, nil
		}
	}
	return decodeRGBStdlib(raw)
}

// decodeRGBStdlib decodes with the standard library's registered decoders.
func decodeRGBStdlib(raw []byte) ([]uint8, int, int, error) {
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, 0, 0, fmt.Errorf("%w: %v", ErrCorruptImage, err)
	}
	b := img.Bounds()
	if b.Dx() <= 0 || b.Dy() <= 0 {
		return nil, 0, 0, fmt.Errorf("%w: empty image", ErrCorruptImage)
	}
	return toRGB(img), b.Dy(), b.Dx(), nil
}

// toRGB converts any image to packed RGB bytes, dropping alpha (premultiplied
// formats thereby end up composited over black).
func toRGB(img image.Image) []uint8 {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	out := make([]uint8, 0, w*h*3)
	switch m := img.(type) {
	case *image.YCbCr:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				yi, ci := m.YOffset(x, y), m.COffset(x, y)
				r, g, bb := color.YCbCrToRGB(m.Y[yi], m.Cb[ci], m.Cr[ci])
				out = append(out, r, g, bb)
			}
		}
	case *image.Gray:
		for y := 0; y < h; y++ {
			row := m.Pix[y*m.Stride : y*m.Stride+w]
			for _, v := range row {
				out = append(out, v, v, v)
			}
		}
	case *image.NRGBA:
		out = appendRGBFrom4(out, m.Pix, m.Stride, w, h)
	case *image.RGBA:
		out = appendRGBFrom4(out, m.Pix, m.Stride, w, h)
	default:
		for y := b.Min.Y; y < b.Max.Y; y++ {
			for x := b.Min.X; x < b.Max.X; x++ {
				r, g, bb, _ := img.At(x, y).RGBA()
				out = append(out, uint8(r>>8), uint8(g>>8), uint8(bb>>8))
			}
		}
	}
	return out
}

// appendRGBFrom4 appends the RGB bytes of a 4-bytes-per-pixel image.
func appendRGBFrom4(out, pix []uint8, stride, w, h int) []uint8 {
	for y := 0; y < h; y++ {
		row := pix[y*stride : y*stride+4*w]
		for x := 0; x < w; x++ {
			out = append(out, row[4*x], row[4*x+1], row[4*x+2])
		}
	}
	return out
}
