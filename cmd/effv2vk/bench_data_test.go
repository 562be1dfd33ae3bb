package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBenchDataCommand measures a two-class folder of small JPEGs (no
// device needed) and checks the refusals of bad flags.
func TestBenchDataCommand(t *testing.T) {
	root := t.TempDir()
	for _, class := range []string{"a", "b"} {
		dir := filepath.Join(root, class)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		img := image.NewRGBA(image.Rect(0, 0, 40, 30))
		for i := range img.Pix {
			img.Pix[i] = uint8(i * 7)
		}
		img.Set(3, 3, color.RGBA{255, 0, 0, 255})
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, nil); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"1.jpg", "2.jpg", "3.jpg"} {
			if err := os.WriteFile(filepath.Join(dir, name), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := runCLI(t, "bench", "data", "--data", root, "--image-size", "16", "--workers", "1", "--batch-size", "4", "--randaugment", "9", "--json"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--data", root, "--workers", "0"}, "--workers 0"},
		{[]string{"--data", filepath.Join(root, "missing")}, "missing"},
	} {
		err := runCLI(t, append([]string{"bench", "data"}, c.args...)...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("bench data %v: error %v, want one naming %q", c.args, err, c.want)
		}
	}
}

// TestCompareCommandFlagsAfterRuns: flags may follow the run directories,
// and an unknown one or a missing --output is a clear error (the drawing is
// tested in viz).
func TestCompareCommandFlagsAfterRuns(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"compare", dir}, "no output file"},
		{[]string{"compare", dir, "--colour", "red"}, "unknown flag --colour"},
		{[]string{"compare", dir, "--output"}, "--output needs a value"},
		{[]string{"compare", "--output", filepath.Join(dir, "c.png")}, "no runs given"},
		{[]string{"compare", dir, "--output", filepath.Join(dir, "c.png"), "--width", "50"}, "--width and --height"},
		{[]string{"compare", dir, "--output=" + filepath.Join(dir, "c.png")}, "has no evaluation"},
	} {
		err := runCLI(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: error %v, want one saying %q", c.args, err, c.want)
		}
	}
}
