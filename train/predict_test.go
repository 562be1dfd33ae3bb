package train_test

import (
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/effv2vk/effv2vk/data"
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/train"
)

// TestPredictMatchesTheForwardPass predicts four Fashion-MNIST test images
// (given as RGB, one read back from a PNG file) with a trained checkpoint:
// every class is listed, most probable first, the probabilities sum to 1
// and equal the softmax of a forward pass over the dataset's own pixels.
func TestPredictMatchesTheForwardPass(t *testing.T) {
	cfg, _, _ := oneCheckpoint(t)
	ck, err := train.OpenCheckpoint(cfg.OutDir)
	if err != nil {
		t.Fatal(err)
	}
	values, err := ck.Weights(false)
	if err != nil {
		t.Fatal(err)
	}
	d, err := engine.Open(engine.Options{Validate: true})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	m, err := net.NewModel(d, ck.Model, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Free()
	if err := m.Store.Load(values); err != nil {
		t.Fatal(err)
	}
	ds, err := ck.OpenDataset("", "test")
	if err != nil {
		t.Fatal(err)
	}
	const n = 4
	var imgs []data.Image
	var gray []uint8
	for i := range n {
		pix, h, w, err := ds.Image(i)
		if err != nil {
			t.Fatal(err)
		}
		gray = append(gray, pix...)
		rgb := data.NewImage(h, w, 3)
		for j, v := range pix {
			rgb.Pix[3*j], rgb.Pix[3*j+1], rgb.Pix[3*j+2] = v, v, v
		}
		imgs = append(imgs, rgb)
	}
	// The first image goes through a PNG file, as `effv2vk predict` reads it.
	file := filepath.Join(t.TempDir(), "0.png")
	pngImg := image.NewGray(image.Rect(0, 0, imgs[0].W, imgs[0].H))
	copy(pngImg.Pix, gray[:imgs[0].H*imgs[0].W])
	f, err := os.Create(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, pngImg); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if imgs[0], err = data.ReadImageFile(file); err != nil {
		t.Fatal(err)
	}
	classes := len(ck.Classes)
	got, err := ck.Predict(m, imgs, classes)
	if err != nil {
		t.Fatal(err)
	}

	raw := ck.Raw
	g, err := m.Record(net.GraphConfig{Batch: n, Size: ck.ImageSize, Raw: &raw}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer g.Free()
	if err := g.Raw.Upload(gray); err != nil {
		t.Fatal(err)
	}
	if err := g.Run(); err != nil {
		t.Fatal(err)
	}
	logits, err := g.Logits.Floats()
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if len(got[i]) != classes {
			t.Fatalf("image %d: %d classes listed, want %d", i, len(got[i]), classes)
		}
		want := train.Softmax(logits[i*classes : (i+1)*classes])
		sum := 0.0
		for j, cs := range got[i] {
			sum += cs.Prob
			if j > 0 && cs.Prob > got[i][j-1].Prob {
				t.Errorf("image %d: class %d (%v) listed after a less probable one", i, cs.Class, cs.Prob)
			}
			if math.Abs(cs.Prob-want[cs.Class]) > 1e-6 || cs.Name != ck.Classes[cs.Class] {
				t.Errorf("image %d: %s p=%v, the forward pass gives %s p=%v", i, cs.Name, cs.Prob, ck.Classes[cs.Class], want[cs.Class])
			}
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Errorf("image %d: probabilities sum to %v", i, sum)
		}
	}
	if msgs := d.ValidationMessages(); len(msgs) > 0 {
		t.Errorf("validation: %v", msgs)
	}
}

// TestSoftmax checks Softmax against its formula, with logits large
// enough to overflow a naive exp.
func TestSoftmax(t *testing.T) {
	v := []float32{1000, 999, 998.5, -1000}
	got := train.Softmax(v)
	den := 1 + math.Exp(-1) + math.Exp(-1.5) + math.Exp(-2000)
	want := []float64{1 / den, math.Exp(-1) / den, math.Exp(-1.5) / den, math.Exp(-2000) / den}
	for i := range want {
		if math.Abs(got[i]-want[i]) > 1e-15 {
			t.Errorf("softmax[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if len(train.Softmax(nil)) != 0 {
		t.Error("softmax of nothing is not empty")
	}
}
