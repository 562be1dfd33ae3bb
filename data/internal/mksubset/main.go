// Command mksubset writes the small, class-balanced Fashion-MNIST subset in
// testdata/fashion-mnist-subset from the full dataset (by default the Debian
// package's files): the first -train images of each class of the training
// split and the first -test of the test split, in file order, as gzipped IDX
// files with the original names.
//
//	go run ./data/internal/mksubset -out testdata/fashion-mnist-subset
package main

import (
	"compress/gzip"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/effv2vk/effv2vk/data"
)

func main() {
	src := flag.String("src", data.DefaultFashionMNISTDir, "directory with the full Fashion-MNIST IDX files")
	out := flag.String("out", "testdata/fashion-mnist-subset", "directory to write the subset into")
	trainPerClass := flag.Int("train", 100, "training images per class")
	testPerClass := flag.Int("test", 50, "test images per class")
	flag.Parse()
	if err := run(*src, *out, *trainPerClass, *testPerClass); err != nil {
		fmt.Fprintln(os.Stderr, "mksubset:", err)
		os.Exit(1)
	}
}

// run writes both splits.
func run(src, out string, trainPerClass, testPerClass int) error {
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	for _, s := range []struct {
		split, prefix string
		perClass      int
	}{{"train", "train", trainPerClass}, {"test", "t10k", testPerClass}} {
		ds, err := data.OpenFashionMNIST(src, s.split)
		if err != nil {
			return err
		}
		if err := writeSplit(ds, filepath.Join(out, s.prefix), s.perClass); err != nil {
			return err
		}
	}
	return nil
}

// writeSplit writes prefix-images-idx3-ubyte.gz and prefix-labels-idx1-ubyte.gz
// holding the first perClass samples of each class.
func writeSplit(ds data.Dataset, prefix string, perClass int) error {
	taken := make([]int, ds.NumClasses())
	var pixels, labels []uint8
	h, w := 0, 0
	for i := 0; i < ds.Len(); i++ {
		label := ds.Label(i)
		if taken[label] >= perClass {
			continue
		}
		pix, ih, iw, err := ds.Image(i)
		if err != nil {
			return err
		}
		h, w = ih, iw
		taken[label]++
		pixels = append(pixels, pix...)
		labels = append(labels, uint8(label))
	}
	for class, n := range taken {
		if n < perClass {
			return fmt.Errorf("class %d has only %d samples, want %d", class, n, perClass)
		}
	}
	n := len(labels)
	if err := writeGzipIDX(prefix+"-images-idx3-ubyte.gz", []int{n, h, w}, pixels); err != nil {
		return err
	}
	return writeGzipIDX(prefix+"-labels-idx1-ubyte.gz", []int{n}, labels)
}

// writeGzipIDX writes one gzipped IDX file (without a name or time stamp in
// the gzip header, so reruns give identical bytes).
func writeGzipIDX(path string, dims []int, body []uint8) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	zw, err := gzip.NewWriterLevel(f, gzip.BestCompression)
	if err != nil {
		f.Close()
		return err
	}
	if err := data.WriteIDX(zw, dims, body); err != nil {
		f.Close()
		return err
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
