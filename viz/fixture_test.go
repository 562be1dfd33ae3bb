package viz

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// fixtureClasses are Fashion-MNIST's class names.
var fixtureClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// fixtureStages are the progressive stages of the fixture run: first step
// and image size.
var fixtureStages = []StageMark{{0, 0, 64}, {1, 40, 96}, {2, 80, 128}}

const fixtureSteps = 120

// fixtureLoss is the fixture's training loss at step s: a noisy decay with
// a bump at each stage change.
func fixtureLoss(s int) float64 {
	return 2.3*math.Exp(-float64(s)/45) + 0.25 + 0.08*math.Sin(float64(s)*1.7)
}

// readIDXImages reads the first n 28x28 images and labels of a
// Fashion-MNIST subset.
func readIDXImages(t testing.TB, n int) ([][]byte, []int) {
	t.Helper()
	read := func(name string) []byte {
		f, err := os.Open(filepath.Join("..", "testdata", "fashion-mnist-subset", name))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		z, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(z)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	imgs, labs := read("t10k-images-idx3-ubyte.gz"), read("t10k-labels-idx1-ubyte.gz")
	var images [][]byte
	var labels []int
	for i := 0; i < n; i++ {
		images = append(images, imgs[16+i*784:16+(i+1)*784])
		labels = append(labels, int(labs[8+i]))
	}
	return images, labels
}

// writeFixtureRun writes a small, deterministic run directory: 120 training
// steps over three stages, an eval every 20 steps (with EMA), and a
// snapshot with 16 Fashion-MNIST samples, two layers of feature maps and
// kernel times.
func writeFixtureRun(t testing.TB, dir string) *Run {
	t.Helper()
	var metrics bytes.Buffer
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	stage := func(s int) StageMark {
		st := fixtureStages[0]
		for _, m := range fixtureStages {
			if s >= m.Step {
				st = m
			}
		}
		return st
	}
	for s := 0; s < fixtureSteps; s++ {
		st := stage(s)
		lr := 0.016 * math.Min(1, float64(s+1)/10) * math.Pow(0.97, float64(s)/4)
		acc := math.Min(0.95, 0.1+0.8*(1-math.Exp(-float64(s)/35))+0.04*math.Cos(float64(s)*2.3))
		fmt.Fprintf(&metrics, `{"kind":"train","time":%q,"step":%d,"epoch":%.3f,"stage":%d,"image_size":%d,"lr":%g,"loss":%g,"top1":%g,"img_per_s":%g}`+"\n",
			t0.Add(time.Duration(s)*time.Second).Format(time.RFC3339), s, float64(s)/40, st.Stage, st.ImageSize, lr, fixtureLoss(s), acc, 95.5)
		if s%20 == 19 {
			e := 0.1 + 0.75*(1-math.Exp(-float64(s)/40))
			fmt.Fprintf(&metrics, `{"kind":"eval","time":%q,"step":%d,"epoch":%.3f,"stage":%d,"image_size":%d,"top1":%g,"top5":%g,"ema_top1":%g,"ema_top5":%g}`+"\n",
				t0.Add(time.Duration(s)*time.Second).Format(time.RFC3339), s, float64(s)/40, st.Stage, st.ImageSize, e, math.Min(1, e+0.12), e+0.03, math.Min(1, e+0.14))
		}
	}
	metrics.WriteString(`{"kind":"train","step":120,"lo`) // a partly written last line
	if err := os.WriteFile(filepath.Join(dir, MetricsFile), metrics.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}

	images, labels := readIDXImages(t, 16)
	var samples []map[string]any
	for i, img := range images {
		pred := labels[i]
		if i%5 == 3 {
			pred = (pred + 2) % 10
		}
		samples = append(samples, map[string]any{"h": 28, "w": 28, "c": 1, "pixels": base64.StdEncoding.EncodeToString(img), "label": labels[i], "pred": pred})
	}
	var fmaps []map[string]any
	for li, layer := range []struct {
		name    string
		c, size int
	}{{"features.1.0", 16, 14}, {"features.2.1", 24, 7}} {
		data := make([]byte, 4*layer.c*layer.size*layer.size)
		for c := 0; c < layer.c; c++ {
			ang := float64(c) * math.Pi / float64(layer.c)
			for y := 0; y < layer.size; y++ {
				for x := 0; x < layer.size; x++ {
					// An oriented filter response of the first image.
					sx, sy := x*28/layer.size, y*28/layer.size
					v := float64(images[0][sy*28+sx]) / 255
					v *= math.Cos(ang*3 + float64(x)*math.Cos(ang)*0.6 + float64(y)*math.Sin(ang)*0.6 + float64(li))
					binary.LittleEndian.PutUint32(data[4*((c*layer.size+y)*layer.size+x):], math.Float32bits(float32(v)))
				}
			}
		}
		fmaps = append(fmaps, map[string]any{"layer": layer.name, "c": layer.c, "h": layer.size, "w": layer.size, "data": base64.StdEncoding.EncodeToString(data)})
	}
	kernels := []KernelTime{{"pointwise_nn_v4", 2400, 812.5}, {"depthwise_forward_k3_s1", 900, 301.2}, {"batchnorm_forward", 3100, 255.0},
		{"depthwise_backward_data_k3_s1", 900, 402.7}, {"silu_forward", 3100, 96.1}, {"softmax_cross_entropy_hard", 100, 3.4},
		{"linear_forward", 100, 12.9}, {"batchnorm_backward", 3100, 377.7}}
	snap, err := json.Marshal(map[string]any{"step": fixtureSteps - 1, "stage": 2, "image_size": 128, "classes": fixtureClasses,
		"samples": samples, "feature_maps": fmaps, "kernel_times": kernels})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, SnapshotFile), snap, 0o644); err != nil {
		t.Fatal(err)
	}
	run, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	return run
}

var docsShot = flag.String("docs", "", "also write the fixture's headless screenshot to this PNG (e.g. ../docs/visualize.png)")
