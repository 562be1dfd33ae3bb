package data

import (
	"io"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkLoaderFashionMNIST runs whole epochs over the full Fashion-MNIST
// training set (the Debian package's files) and reports images per second,
// with no augmentation and with the full training augmentation at the
// progressive schedule's largest size for this dataset.
func BenchmarkLoaderFashionMNIST(b *testing.B) {
	if _, err := os.Stat(filepath.Join(DefaultFashionMNISTDir, "train-images-idx3-ubyte.gz")); err != nil {
		b.Skip("the Debian dataset-fashion-mnist files are not installed")
	}
	ds, err := OpenFashionMNIST("", "train")
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		opts Options
	}{
		{"plain", Options{BatchSize: 256, Shuffle: true}},
		{"augmented", Options{BatchSize: 256, Shuffle: true, Size: 32, Augment: fullAugment()}},
	} {
		b.Run(c.name, func(b *testing.B) {
			images := 0
			for epoch := 0; b.Loop(); epoch++ {
				opts := c.opts
				opts.Epoch = epoch
				l, err := NewLoader(ds, opts)
				if err != nil {
					b.Fatal(err)
				}
				for {
					batch, err := l.Next()
					if err == io.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					images += batch.N
					l.Release(batch)
				}
				l.Close()
			}
			b.ReportMetric(float64(images)/b.Elapsed().Seconds(), "images/s")
		})
	}
}
