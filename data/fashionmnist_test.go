package data

import (
	"os"
	"path/filepath"
	"testing"
)

// subsetDir is the committed Fashion-MNIST subset.
var subsetDir = filepath.Join("..", "testdata", "fashion-mnist-subset")

// openSubset opens a split of the committed subset.
func openSubset(t testing.TB, split string) Dataset {
	t.Helper()
	ds, err := OpenFashionMNIST(subsetDir, split)
	if err != nil {
		t.Fatal(err)
	}
	return ds
}

func TestFashionMNISTSubsetIsBalanced(t *testing.T) {
	for _, c := range []struct {
		split    string
		perClass int
	}{{"train", 100}, {"test", 50}} {
		ds := openSubset(t, c.split)
		if ds.Len() != 10*c.perClass || ds.NumClasses() != 10 || ds.Channels() != 1 {
			t.Fatalf("%s: len %d classes %d channels %d", c.split, ds.Len(), ds.NumClasses(), ds.Channels())
		}
		counts := make([]int, 10)
		for i := 0; i < ds.Len(); i++ {
			counts[ds.Label(i)]++
		}
		for class, n := range counts {
			if n != c.perClass {
				t.Fatalf("%s: class %d has %d samples, want %d", c.split, class, n, c.perClass)
			}
		}
		pix, h, w, err := ds.Image(0)
		if err != nil || h != 28 || w != 28 || len(pix) != 784 {
			t.Fatalf("%s: image 0: %d bytes %dx%d %v", c.split, len(pix), h, w, err)
		}
		nonzero := 0
		for _, v := range pix {
			if v != 0 {
				nonzero++
			}
		}
		if nonzero < 50 {
			t.Fatalf("%s: image 0 has only %d non-zero pixels; not a garment", c.split, nonzero)
		}
	}
	names := openSubset(t, "train").ClassNames()
	if names[0] != "T-shirt/top" || names[9] != "Ankle boot" || len(names) != 10 {
		t.Fatalf("class names %q", names)
	}
}

func TestFashionMNISTSubsetMatchesFullDataset(t *testing.T) {
	if _, err := os.Stat(filepath.Join(DefaultFashionMNISTDir, "t10k-images-idx3-ubyte.gz")); err != nil {
		t.Skip("the Debian dataset-fashion-mnist files are not installed")
	}
	full, err := OpenFashionMNIST("", "test")
	if err != nil {
		t.Fatal(err)
	}
	if full.Len() != 10000 {
		t.Fatalf("full test split has %d images, want 10000", full.Len())
	}
	// The subset's first sample is the full file's first sample.
	sub := openSubset(t, "test")
	a, _, _, _ := sub.Image(0)
	b, _, _, _ := full.Image(0)
	if string(a) != string(b) || sub.Label(0) != full.Label(0) {
		t.Fatal("subset sample 0 differs from full sample 0")
	}
}
