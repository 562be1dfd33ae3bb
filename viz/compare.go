package viz

import (
	"fmt"
	"image"
	"math"
	"path/filepath"

	"github.com/effv2vk/effv2vk/engine"
)

// comparePalette colours the runs of a comparison, in order (repeating
// after eight runs).
var comparePalette = []Color{
	{70, 150, 255}, {255, 140, 40}, {60, 220, 110}, {240, 80, 210},
	{245, 215, 60}, {0, 210, 220}, {235, 90, 80}, {190, 160, 255},
}

// CompareColor returns the colour of run i of a comparison.
func CompareColor(i int) Color { return comparePalette[i%len(comparePalette)] }

// RunLabel names a run in a comparison's legend: its directory's base name.
func RunLabel(r *Run) string { return filepath.Base(filepath.Clean(r.Dir)) }

// CompareSeries returns, for each run, its test top-1 (the "eval" lines of
// metrics.jsonl) against wall-clock minutes since its first logged training
// step, and against epochs.
func CompareSeries(runs []*Run) (byTime, byEpoch []Series) {
	for i, r := range runs {
		minutes, epochs, top1 := make([]float64, len(r.Eval)), make([]float64, len(r.Eval)), make([]float64, len(r.Eval))
		for k, e := range r.Eval {
			minutes[k], epochs[k], top1[k] = math.NaN(), e.Epoch, e.Top1
			if len(r.Train) > 0 {
				minutes[k] = e.Time.Sub(r.Train[0].Time).Minutes()
			}
		}
		name, c := RunLabel(r), CompareColor(i)
		byTime = append(byTime, Series{Name: name, Color: c, X: minutes, Y: top1})
		byEpoch = append(byEpoch, Series{Name: name, Color: c, X: epochs, Y: top1})
	}
	return byTime, byEpoch
}

// CompareCharts lays out the comparison of a w x h image: test top-1 against
// wall time above, against epochs below. Both Y axes fit the data (rounded
// to ticks) so the runs' differences stay visible.
func CompareCharts(runs []*Run, w, h int) (byTime, byEpoch Chart) {
	ts, es := CompareSeries(runs)
	body := Box{margin, lineH + 4, w - 2*margin, h - lineH - 4 - margin}
	rows := splitRows(body, []int{1, 1})
	return NewChart(rows[0], ts, math.NaN(), math.NaN(), true), NewChart(rows[1], es, math.NaN(), math.NaN(), true)
}

// ComposeComparison builds the scene of a comparison chart of several runs
// for a w x h image, drawn by the same Renderer as the window.
func ComposeComparison(runs []*Run, w, h int) *Scene {
	s := NewScene(w, h, theme.Background)
	s.Text(margin, 3, Fit("effv2vk compare: test top-1 of each run", w-2*margin, 1), theme.Title, 1)
	if h < 6*lineH {
		return s
	}
	ts, es := CompareSeries(runs)
	byTime, byEpoch := CompareCharts(runs, w, h)
	byTime.Draw(s, "test top-1 vs wall time (minutes from the first step)", ts, nil)
	byEpoch.Draw(s, "test top-1 vs epoch", es, nil)
	return s
}

// CompareOptions configure Compare.
type CompareOptions struct {
	RunDirs  []string // training run directories, two or more to compare
	Output   string   // the PNG file written
	Device   string   // engine device selector ("" = default)
	Width    int      // image width (default 1000)
	Height   int      // image height (default 700)
	Validate bool     // run the Vulkan validation layer; a message fails
}

// Compare reads the runs' metrics and writes their comparison chart as a
// PNG, drawn offscreen on the device (no window or display needed).
func Compare(opts CompareOptions) (err error) {
	if opts.Width <= 0 {
		opts.Width = 1000
	}
	if opts.Height <= 0 {
		opts.Height = 700
	}
	if len(opts.RunDirs) == 0 {
		return fmt.Errorf("viz: compare: no run directories given")
	}
	if opts.Output == "" {
		return fmt.Errorf("viz: compare: no output file: give --output FILE.png")
	}
	if err := checkWritable(opts.Output); err != nil {
		return err
	}
	var runs []*Run
	for _, dir := range opts.RunDirs {
		r, err := ReadRun(dir)
		if err != nil {
			return err
		}
		if len(r.Eval) == 0 {
			return fmt.Errorf("viz: compare: run %s has no evaluation in its %s yet (evaluations are logged at the end of each epoch)", dir, MetricsFile)
		}
		runs = append(runs, r)
	}
	img, err := drawOffscreen(opts.Device, opts.Validate, ComposeComparison(runs, opts.Width, opts.Height))
	if err != nil {
		return err
	}
	return WritePNG(opts.Output, img)
}

// drawOffscreen draws one scene on a device's offscreen image and reads it
// back.
func drawOffscreen(device string, validate bool, s *Scene) (img *image.RGBA, err error) {
	dev, err := engine.Open(engine.Options{Select: device, Validate: validate})
	if err != nil {
		return nil, err
	}
	defer closeChecked(dev, &err)
	off, err := dev.NewOffscreen(s.Width, s.Height)
	if err != nil {
		return nil, err
	}
	defer off.Close()
	r, err := NewRenderer(dev)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	frame, err := r.Draw(s, off.BGRA())
	if err != nil {
		return nil, err
	}
	rb, err := dev.NewTensor("viz.compare.readback", engine.Uint32, s.Height, s.Width)
	if err != nil {
		return nil, err
	}
	defer rb.Free()
	if err := off.Show(frame, rb); err != nil {
		return nil, err
	}
	px := make([]uint32, s.Width*s.Height)
	if err := rb.Download(px); err != nil {
		return nil, err
	}
	return ToImage(px, s.Width, s.Height, off.BGRA()), nil
}
