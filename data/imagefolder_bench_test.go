package data

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkImageFolderThroughput decodes and augments a folder of 64
// JPEGs of 500x375 (written by the benchmark) into batches of 32, with
// RandomResizedCrop + flip and optionally RandAugment (2 ops, magnitude 15),
// at 224 and 300 px, and reports images per second (`effv2vk bench data`
// measures the same on any folder).
func BenchmarkImageFolderThroughput(b *testing.B) {
	root := b.TempDir()
	for c := 0; c < 2; c++ {
		dir := filepath.Join(root, fmt.Sprintf("c%d", c))
		if err := os.MkdirAll(dir, 0o755); err != nil {
			b.Fatal(err)
		}
		raw := testJPEG(b, 375, 500, false)
		for i := 0; i < 32; i++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d.jpg", i)), raw, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	ds, err := OpenImageFolder(root)
	if err != nil {
		b.Fatal(err)
	}
	for _, size := range []int{224, 300} {
		for _, m := range []float64{0, 15} {
			b.Run(fmt.Sprintf("%dpx/randaugment=%g", size, m), func(b *testing.B) {
				opts := Options{BatchSize: 32, Shuffle: true, Size: size, Workers: 2,
					Augment: Augment{RandomResizedCrop: true, HorizontalFlip: true}}
				if m > 0 {
					opts.Augment.RandAugmentN, opts.Augment.RandAugmentM = 2, m
				}
				images, seconds := 0, 0.0
				for epoch := 0; b.Loop(); epoch++ {
					opts.Epoch = epoch
					t, err := MeasureThroughput(ds, opts, 1)
					if err != nil {
						b.Fatal(err)
					}
					images += t.Images
					seconds += t.Seconds
				}
				b.ReportMetric(float64(images)/seconds, "images/s")
			})
		}
	}
}
