package viz

import (
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// gpuFrame draws s on dev through an offscreen image and reads it back.
func gpuFrame(t *testing.T, dev *engine.Device, r *Renderer, s *Scene) *image.RGBA {
	t.Helper()
	off, err := dev.NewOffscreen(s.Width, s.Height)
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	frame, err := r.Draw(s, off.BGRA())
	if err != nil {
		t.Fatal(err)
	}
	rb, err := dev.NewTensor("readback", engine.Uint32, s.Height, s.Width)
	if err != nil {
		t.Fatal(err)
	}
	defer rb.Free()
	if err := off.Show(frame, rb); err != nil {
		t.Fatal(err)
	}
	px := make([]uint32, s.Width*s.Height)
	if err := rb.Download(px); err != nil {
		t.Fatal(err)
	}
	return ToImage(px, s.Width, s.Height, true)
}

// compareImages fails t when got and want differ by more than one level in
// any channel (blits compute colours in float32 on both sides, where the
// GPU may fuse operations), or when more than maxOff pixels differ at all.
func compareImages(t *testing.T, got, want *image.RGBA, maxOff int) {
	t.Helper()
	off := 0
	for i := 0; i < len(want.Pix); i += 4 {
		d := 0
		for c := 0; c < 3; c++ {
			d = max(d, abs(int(got.Pix[i+c])-int(want.Pix[i+c])))
		}
		if d > 0 {
			off++
		}
		if d > 1 {
			p := i / 4
			t.Fatalf("pixel (%d, %d): GPU %v, CPU reference %v", p%want.Rect.Dx(), p/want.Rect.Dx(), got.Pix[i:i+3], want.Pix[i:i+3])
		}
	}
	if off > maxOff {
		t.Fatalf("%d pixels differ by one level (at most %d allowed)", off, maxOff)
	}
}

func TestRendererMatchesCPUReference(t *testing.T) {
	dev := enginetest.Open(t)
	r, err := NewRenderer(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	run := writeFixtureRun(t, t.TempDir())
	for _, v := range []View{{}, {Focus: FeaturesPanel, Layer: 1}} {
		s := Compose(run, v, 800, 600)
		got := gpuFrame(t, dev, r, s)
		compareImages(t, got, ToImage(Rasterize(s, true), 800, 600, true), 800*600/100)
		if v.Focus == Overview {
			checkCurves(t, got, run, v)
		}
	}
}

// TestDrawKernelsClipAndOrder draws random primitives, many partly or wholly
// outside a small odd-sized canvas, and compares with the CPU reference.
func TestDrawKernelsClipAndOrder(t *testing.T) {
	dev := enginetest.Open(t)
	r, err := NewRenderer(dev)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	rng := rand.New(rand.NewPCG(3, 4))
	coord := func(n int) int { return rng.IntN(n+80) - 40 }
	color := func() Color { return Color{uint8(rng.IntN(256)), uint8(rng.IntN(256)), uint8(rng.IntN(256))} }
	for _, sz := range [][2]int{{97, 61}, {1, 1}, {203, 150}} {
		w, h := sz[0], sz[1]
		s := NewScene(w, h, color())
		for i := 0; i < 40; i++ {
			s.Fill(coord(w), coord(h), rng.IntN(60), rng.IntN(60), color())
		}
		for i := 0; i < 6; i++ {
			sw, sh, ch := 1+rng.IntN(9), 1+rng.IntN(9), []int{1, 3}[rng.IntN(2)]
			data := make([]float32, sw*sh*ch)
			for k := range data {
				data[k] = float32(rng.IntN(256))
			}
			mode := BlitMode(rng.IntN(2))
			s.Image(coord(w), coord(h), 1+rng.IntN(50), 1+rng.IntN(50), sw, sh, ch, data, mode, 0, 255)
		}
		for b := 0; b < 5; b++ {
			var xs, ys []int
			for i := 0; i < 1+rng.IntN(12); i++ {
				xs, ys = append(xs, coord(w)), append(ys, coord(h))
			}
			s.Polyline(xs, ys, color(), 1+rng.IntN(3))
		}
		for i := 0; i < 30; i++ {
			s.Text(coord(w), coord(h), string(rune(' '+rng.IntN(95))), color(), 1+rng.IntN(2))
		}
		compareImages(t, gpuFrame(t, dev, r, s), ToImage(Rasterize(s, true), w, h, true), w*h/50)
	}
}

func TestShowHeadlessWritesScreenshot(t *testing.T) {
	dir := t.TempDir()
	run := writeFixtureRun(t, dir)
	out := filepath.Join(t.TempDir(), "shot.png")
	var handed *image.RGBA
	enginetest.RequireDevice(t)
	err := Show(Options{RunDir: dir, Headless: true, Screenshot: out, Frames: 2, Validate: true,
		OnScreenshot: func(img *image.RGBA) error { handed = img; return nil }})
	if err != nil {
		t.Fatal(err) // a validation message fails Show too
	}
	img := readPNG(t, out)
	if img.Rect.Dx() != 800 || img.Rect.Dy() != 600 {
		t.Fatalf("screenshot is %v, want 800x600", img.Rect)
	}
	if handed == nil || string(handed.Pix) != string(img.Pix) {
		t.Error("the PNG differs from the image handed to OnScreenshot")
	}
	checkCurves(t, img, run, View{})
	if *docsShot != "" {
		// The docs picture names a tidy relative run directory.
		docs, err := filepath.Abs(*docsShot)
		if err != nil {
			t.Fatal(err)
		}
		tmp := t.TempDir()
		writeFixtureRun(t, tmp)
		t.Chdir(tmp)
		if err := os.MkdirAll("runs", 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{MetricsFile, SnapshotFile} {
			if err := os.Rename(f, filepath.Join("runs", f)); err != nil {
				t.Fatal(err)
			}
		}
		if err := Show(Options{RunDir: "runs", Headless: true, Screenshot: docs, Frames: 1}); err != nil {
			t.Fatal(err)
		}
	}
}

func TestShowErrorsAreClear(t *testing.T) {
	empty := t.TempDir()
	shot := filepath.Join(t.TempDir(), "x.png")
	for name, c := range map[string]struct {
		opts Options
		want string
	}{
		"missing run dir":            {Options{RunDir: filepath.Join(empty, "nope"), Headless: true, Screenshot: shot}, "does not exist"},
		"empty run dir":              {Options{RunDir: empty, Headless: true, Screenshot: shot}, "is empty: no metrics.jsonl or snapshot.json yet"},
		"headless without shot":      {Options{RunDir: empty, Headless: true}, "needs --screenshot"},
		"shot into a missing dir":    {Options{RunDir: empty, Headless: true, Screenshot: filepath.Join(empty, "a", "b.png")}, "does not exist"},
		"no display and no headless": {Options{RunDir: empty}, "use --headless --screenshot"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Setenv("DISPLAY", "")
			t.Setenv("WAYLAND_DISPLAY", "")
			err := Show(c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want an error containing %q", err, c.want)
			}
		})
	}
}
