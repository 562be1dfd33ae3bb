package data

import (
	"fmt"
	"io"
	"time"
)

// Throughput is what MeasureThroughput saw: Images decoded and augmented
// into batches in Seconds of wall time, from the loader's start to its last
// batch.
type Throughput struct {
	Images       int     `json:"images"`
	Batches      int     `json:"batches"`
	Seconds      float64 `json:"seconds"`
	ImagesPerSec float64 `json:"images_per_sec"`
}

// MeasureThroughput runs a Loader with opts over epochs full passes of ds
// (epoch numbers opts.Epoch, opts.Epoch+1, ...), taking each batch and
// handing it straight back, and reports images per second: the rate at which
// the host could feed a device that consumed batches instantly.
func MeasureThroughput(ds Dataset, opts Options, epochs int) (Throughput, error) {
	if epochs < 1 {
		return Throughput{}, fmt.Errorf("data: throughput: %d epochs: want at least 1", epochs)
	}
	var t Throughput
	start := time.Now()
	for e := 0; e < epochs; e++ {
		o := opts
		o.Epoch = opts.Epoch + e
		l, err := NewLoader(ds, o)
		if err != nil {
			return t, err
		}
		for {
			b, err := l.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				l.Close()
				return t, err
			}
			t.Images += b.N
			t.Batches++
			l.Release(b)
		}
		l.Close()
	}
	t.Seconds = time.Since(start).Seconds()
	if t.Seconds > 0 {
		t.ImagesPerSec = float64(t.Images) / t.Seconds
	}
	return t, nil
}
