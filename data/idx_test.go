package data

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// idxBytes returns an uncompressed IDX file.
func idxBytes(t *testing.T, dims []int, body []uint8) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteIDX(&buf, dims, body); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// gzipBytes compresses raw.
func gzipBytes(t *testing.T, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(raw)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// writeFile writes raw to dir/name and returns the path.
func writeFile(t *testing.T, dir, name string, raw []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// writeFashion writes a tiny Fashion-MNIST split (n images of 4x3) to dir,
// gzipped or plain, and returns the pixels and labels written.
func writeFashion(t *testing.T, dir, prefix string, n int, gz bool) ([]uint8, []uint8) {
	t.Helper()
	pix := make([]uint8, n*4*3)
	for i := range pix {
		pix[i] = uint8(i * 7)
	}
	labels := make([]uint8, n)
	for i := range labels {
		labels[i] = uint8(i % 10)
	}
	images, lab := idxBytes(t, []int{n, 4, 3}, pix), idxBytes(t, []int{n}, labels)
	suffix := ""
	if gz {
		images, lab, suffix = gzipBytes(t, images), gzipBytes(t, lab), ".gz"
	}
	writeFile(t, dir, prefix+"-images-idx3-ubyte"+suffix, images)
	writeFile(t, dir, prefix+"-labels-idx1-ubyte"+suffix, lab)
	return pix, labels
}

func TestOpenFashionMNISTReadsGzipAndPlain(t *testing.T) {
	for _, gz := range []bool{true, false} {
		dir := t.TempDir()
		pix, labels := writeFashion(t, dir, "t10k", 5, gz)
		ds, err := OpenFashionMNIST(dir, "test")
		if err != nil {
			t.Fatalf("gzip=%v: %v", gz, err)
		}
		if ds.Len() != 5 || ds.Channels() != 1 || ds.NumClasses() != 10 {
			t.Fatalf("gzip=%v: len %d channels %d classes %d", gz, ds.Len(), ds.Channels(), ds.NumClasses())
		}
		got, h, w, err := ds.Image(3)
		if err != nil || h != 4 || w != 3 || !bytes.Equal(got, pix[3*12:4*12]) {
			t.Fatalf("gzip=%v: image 3 = %v %dx%d %v, want %v 4x3", gz, got, h, w, err, pix[36:48])
		}
		if ds.Label(3) != int(labels[3]) {
			t.Fatalf("gzip=%v: label 3 = %d, want %d", gz, ds.Label(3), labels[3])
		}
		if _, _, _, err := ds.Image(5); err == nil || !strings.Contains(err.Error(), "index 5 out of range [0, 5)") {
			t.Fatalf("gzip=%v: Image(5) of 5 samples: %v", gz, err)
		}
	}
}

func TestOpenFashionMNISTRejectsBadFiles(t *testing.T) {
	good := func(t *testing.T) []byte { return idxBytes(t, []int{2, 4, 3}, make([]uint8, 24)) }
	cases := []struct {
		name   string
		images func(t *testing.T) []byte // images file content (plain)
		labels []byte                    // labels file content (plain); nil = 2 good labels
		file   string                    // which file the error must name
		want   string
	}{
		{"bad magic", func(t *testing.T) []byte { b := good(t); b[2] = 0x09; return b }, nil, "images", "bad magic number"},
		{"labels file as images", func(t *testing.T) []byte { return idxBytes(t, []int{2}, []uint8{0, 1}) }, nil, "images", "bad magic number"},
		{"empty", func(t *testing.T) []byte { return nil }, nil, "images", "truncated"},
		{"truncated header", func(t *testing.T) []byte { return good(t)[:10] }, nil, "images", "truncated"},
		{"truncated data", func(t *testing.T) []byte { return good(t)[:30] }, nil, "images", "truncated"},
		{"trailing bytes", func(t *testing.T) []byte { return append(good(t), 1, 2) }, nil, "images", "unexpected bytes"},
		{"header cut inside dimensions", func(t *testing.T) []byte { return good(t)[:8] }, nil, "images", "truncated"},
		{"count mismatch", good, idxBytes(t, []int{3}, []uint8{0, 1, 2}), "labels", "3 labels but"},
		{"label out of range", good, idxBytes(t, []int{2}, []uint8{0, 10}), "labels", "label 10"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			labels := c.labels
			if labels == nil {
				labels = idxBytes(t, []int{2}, []uint8{0, 1})
			}
			paths := map[string]string{
				"images": writeFile(t, dir, "train-images-idx3-ubyte", c.images(t)),
				"labels": writeFile(t, dir, "train-labels-idx1-ubyte", labels),
			}
			_, err := OpenFashionMNIST(dir, "train")
			if err == nil {
				t.Fatal("no error")
			}
			if !strings.Contains(err.Error(), paths[c.file]) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q: want it to name %s and say %q", err, paths[c.file], c.want)
			}
		})
	}
}

func TestOpenFashionMNISTZeroDimensionAndBadGzip(t *testing.T) {
	dir := t.TempDir()
	raw := idxBytes(t, []int{2, 4, 3}, make([]uint8, 24))
	raw[11] = 0 // dimension 1 (4) -> 0
	imagesPath := writeFile(t, dir, "train-images-idx3-ubyte", raw)
	writeFile(t, dir, "train-labels-idx1-ubyte", idxBytes(t, []int{2}, []uint8{0, 1}))
	if _, err := OpenFashionMNIST(dir, "train"); err == nil || !strings.Contains(err.Error(), imagesPath) || !strings.Contains(err.Error(), "dimension 1 is 0") {
		t.Fatalf("zero dimension: error %v", err)
	}

	dir = t.TempDir()
	gz := gzipBytes(t, idxBytes(t, []int{2, 4, 3}, make([]uint8, 24)))
	gzPath := writeFile(t, dir, "train-images-idx3-ubyte.gz", gz[:len(gz)-12]) // cut the gzip stream
	writeFile(t, dir, "train-labels-idx1-ubyte.gz", gzipBytes(t, idxBytes(t, []int{2}, []uint8{0, 1})))
	if _, err := OpenFashionMNIST(dir, "train"); err == nil || !strings.Contains(err.Error(), gzPath) {
		t.Fatalf("cut gzip stream: error %v, want one naming %s", err, gzPath)
	}
}

func TestOpenFashionMNISTMissingFilesAndBadSplit(t *testing.T) {
	dir := t.TempDir()
	if _, err := OpenFashionMNIST(dir, "train"); err == nil || !strings.Contains(err.Error(), "train-images-idx3-ubyte.gz") {
		t.Fatalf("missing files: error %v", err)
	}
	if _, err := OpenFashionMNIST(dir, "validation"); err == nil || !strings.Contains(err.Error(), `"validation"`) {
		t.Fatalf("bad split: error %v", err)
	}
}

func TestWriteIDXRejectsMismatchedData(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteIDX(&buf, []int{2, 2}, make([]uint8, 3)); err == nil || !strings.Contains(err.Error(), "dimensions [2 2] need 4 bytes, got 3") {
		t.Fatalf("2x2 dims with 3 bytes: %v", err)
	}
	if err := WriteIDX(&buf, []int{0}, nil); err == nil || !strings.Contains(err.Error(), "dimensions [0] must be positive") {
		t.Fatalf("zero dim: %v", err)
	}
	if err := WriteIDX(&buf, nil, nil); err == nil || !strings.Contains(err.Error(), "0 dimensions, want 1..255") {
		t.Fatalf("no dims: %v", err)
	}
}

// mkdir creates dir.
func mkdir(t *testing.T, dir string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
}
