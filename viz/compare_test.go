package viz

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// writeCompareRun writes a run directory whose metrics.jsonl holds a first
// training step at t0 and one evaluation per epoch at the given minutes
// after it, and returns the run as ReadRun sees it.
func writeCompareRun(t *testing.T, dir string, t0 time.Time, minutes, top1 []float64) *Run {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	fmt.Fprintf(&b, `{"kind":"train","time":%q,"step":1,"epoch":0.1,"stage":0,"image_size":32,"lr":0.001,"loss":2.3,"top1":0.1}`+"\n", t0.Format(time.RFC3339Nano))
	for i := range minutes {
		at := t0.Add(time.Duration(minutes[i] * float64(time.Minute)))
		fmt.Fprintf(&b, `{"kind":"eval","time":%q,"step":%d,"epoch":%d,"stage":0,"image_size":32,"top1":%g,"top5":0.9}`+"\n",
			at.Format(time.RFC3339Nano), 10*(i+1), i+1, top1[i])
	}
	if err := os.WriteFile(filepath.Join(dir, MetricsFile), []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestCompareSeries(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	r := writeCompareRun(t, filepath.Join(t.TempDir(), "fixed64"), t0, []float64{1.5, 3, 4.5}, []float64{0.5, 0.6, 0.7})
	byTime, byEpoch := CompareSeries([]*Run{r, r})
	if len(byTime) != 2 || byTime[0].Name != "fixed64" || byTime[0].Color == byTime[1].Color {
		t.Fatalf("series %+v: want two, named after the directory, in different colours", byTime)
	}
	for i, want := range []float64{1.5, 3, 4.5} {
		if math.Abs(byTime[0].X[i]-want) > 1e-9 || byEpoch[0].X[i] != float64(i+1) || byTime[0].Y[i] != r.Eval[i].Top1 {
			t.Fatalf("point %d: time %g epoch %g top-1 %g, want %g, %d, %g", i, byTime[0].X[i], byEpoch[0].X[i], byTime[0].Y[i], want, i+1, r.Eval[i].Top1)
		}
	}
}

// TestCompareDraws writes the comparison PNG of two runs through the
// device and checks that each run's curve passes through the pixel of every
// evaluation, in its colour, in both charts.
func TestCompareDraws(t *testing.T) {
	enginetest.Open(t) // skips without a device (fails under CI)
	root := t.TempDir()
	t0 := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	runs := []*Run{
		writeCompareRun(t, filepath.Join(root, "progressive"), t0, []float64{1, 2, 3.5, 5}, []float64{0.55, 0.7, 0.78, 0.83}),
		writeCompareRun(t, filepath.Join(root, "fixed"), t0, []float64{2, 4.5, 7, 9}, []float64{0.5, 0.72, 0.8, 0.84}),
	}
	out := filepath.Join(root, "compare.png")
	const w, h = 640, 480
	if err := Compare(CompareOptions{RunDirs: []string{runs[0].Dir, runs[1].Dir}, Output: out, Width: w, Height: h, Validate: true}); err != nil {
		t.Fatal(err)
	}
	img := readPNG(t, out)
	if img.Rect.Dx() != w || img.Rect.Dy() != h {
		t.Fatalf("image %v, want %dx%d", img.Rect, w, h)
	}
	byTime, byEpoch := CompareCharts(runs, w, h)
	for i, r := range runs {
		for _, e := range r.Eval {
			x, y := byTime.Px(e.Time.Sub(r.Train[0].Time).Minutes(), e.Top1)
			if got := pixelAt(img, x, y); got != CompareColor(i) {
				t.Errorf("%s at %.1f min: pixel (%d, %d) is %v, want the run's colour %v", RunLabel(r), e.Time.Sub(r.Train[0].Time).Minutes(), x, y, got, CompareColor(i))
			}
			x, y = byEpoch.Px(e.Epoch, e.Top1)
			if got := pixelAt(img, x, y); got != CompareColor(i) {
				t.Errorf("%s at epoch %g: pixel (%d, %d) is %v, want the run's colour %v", RunLabel(r), e.Epoch, x, y, got, CompareColor(i))
			}
		}
	}
}

func TestCompareRefusesBadInput(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "empty")
	writeCompareRun(t, empty, time.Now(), nil, nil)
	for _, c := range []struct {
		opts CompareOptions
		want string
	}{
		{CompareOptions{Output: filepath.Join(root, "a.png")}, "no run directories"},
		{CompareOptions{RunDirs: []string{empty}}, "no output file"},
		{CompareOptions{RunDirs: []string{empty}, Output: filepath.Join(root, "missing", "a.png")}, "does not exist"},
		{CompareOptions{RunDirs: []string{empty}, Output: filepath.Join(root, "a.png")}, "has no evaluation"},
	} {
		if err := Compare(c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one saying %q", c.opts, err, c.want)
		}
	}
}
