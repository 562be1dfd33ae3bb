package viz

import (
	"fmt"
	"math"
	"sort"
)

// maxSamples bounds the sample grid.
const maxSamples = 32

// drawSamples adds the grid of recent training inputs, each with its true
// label (white) and prediction (green when right, red when wrong).
func drawSamples(s *Scene, b Box, snap *Snapshot) {
	s.Fill(b.X, b.Y, b.W, b.H, theme.Panel)
	if b.W < 32 || b.H < 32 {
		return
	}
	title := "samples"
	if snap != nil && len(snap.Samples) > 0 {
		sm := snap.Samples[0]
		title = fmt.Sprintf("samples %dx%d, step %d: true / predicted", sm.W, sm.H, snap.Step)
	}
	s.Text(b.X+4, b.Y+3, Fit(title, b.W-8, 1), theme.Title, 1)
	if snap == nil || len(snap.Samples) == 0 {
		s.Text(b.X+4, b.Y+3+lineH, Fit("no samples yet", b.W-8, 1), theme.Dim, 1)
		return
	}
	area := Box{b.X + 4, b.Y + lineH + 4, b.W - 8, b.H - lineH - 6}
	n, cols, cell := SampleGrid(min(len(snap.Samples), maxSamples), area.W, area.H)
	if n == 0 {
		return
	}
	cellW := area.W / cols
	for i := 0; i < n; i++ {
		sm := snap.Samples[i]
		x := area.X + (i%cols)*cellW
		y := area.Y + (i/cols)*(cell+sampleLabels)
		data := make([]float32, len(sm.Pixels))
		for k, v := range sm.Pixels {
			data[k] = float32(v)
		}
		iw, ih := fitAspect(sm.W, sm.H, cell, cell)
		s.Image(x+(cellW-iw)/2, y+(cell-ih)/2, iw, ih, sm.W, sm.H, sm.C, data, BlitDirect, 0, 255)
		label := Fit(snap.ClassName(sm.Label), cellW-2, 1)
		s.Text(x+(cellW-TextWidth(label, 1))/2, y+cell+1, label, theme.Title, 1)
		pred, col := snap.ClassName(sm.Pred), theme.Good
		if sm.Pred != sm.Label {
			col = theme.Bad
		}
		pred = Fit(pred, cellW-2, 1)
		s.Text(x+(cellW-TextWidth(pred, 1))/2, y+cell+1+FontHeight, pred, col, 1)
	}
}

// Sample cells: wide enough for a 8-character label, tall enough for a
// recognisable image and two label lines.
const (
	sampleMinW   = 8 * FontAdvance
	sampleMinImg = 24
	sampleLabels = 2*FontHeight + 4
)

// SampleGrid decides how many of n samples fit in a w x h area, in how many
// columns, and the side of each image.
func SampleGrid(n, w, h int) (shown, cols, cell int) {
	maxCols := w / sampleMinW
	maxRows := h / (sampleMinImg + sampleLabels)
	if n <= 0 || maxCols <= 0 || maxRows <= 0 {
		return 0, 0, 0
	}
	n = min(n, maxCols*maxRows)
	cols, _, cell = GridShape(n, w, h, sampleLabels)
	if cols > maxCols || cell < sampleMinImg {
		cols = min(n, maxCols)
		rows := (n + cols - 1) / cols
		cell = min(w/cols, h/rows-sampleLabels)
	}
	return n, cols, cell
}

// fitAspect scales w x h to fit in maxW x maxH, keeping its aspect.
func fitAspect(w, h, maxW, maxH int) (int, int) {
	if w <= 0 || h <= 0 {
		return 0, 0
	}
	if w*maxH > h*maxW {
		return maxW, max(1, h*maxW/w)
	}
	return max(1, w*maxH/h), maxH
}

// maxChannels bounds the feature-map grid.
const maxChannels = 64

// drawFeatures adds the channels of feature map number layer (cycled), each
// scaled to its own range.
func drawFeatures(s *Scene, b Box, snap *Snapshot, layer int) {
	s.Fill(b.X, b.Y, b.W, b.H, theme.Panel)
	if b.W < 32 || b.H < 32 {
		return
	}
	if snap == nil || len(snap.FeatureMaps) == 0 {
		s.Text(b.X+4, b.Y+3, "feature maps", theme.Title, 1)
		s.Text(b.X+4, b.Y+3+lineH, Fit("none in the snapshot yet", b.W-8, 1), theme.Dim, 1)
		return
	}
	n := len(snap.FeatureMaps)
	layer = ((layer % n) + n) % n
	fm := snap.FeatureMaps[layer]
	title := fmt.Sprintf("%s %dx%dx%d  [%d/%d, <- ->]", fm.Layer, fm.C, fm.H, fm.W, layer+1, n)
	s.Text(b.X+4, b.Y+3, Fit(title, b.W-8, 1), theme.Title, 1)
	c := min(fm.C, maxChannels)
	area := Box{b.X + 4, b.Y + lineH + 4, b.W - 8, b.H - lineH - 6}
	cols, _, cell := GridShape(c, area.W, area.H, 1)
	if cell < 2 {
		return
	}
	plane := fm.H * fm.W
	for ch := 0; ch < c; ch++ {
		data := fm.Data[ch*plane : (ch+1)*plane]
		lo, hi := float32(math.Inf(1)), float32(math.Inf(-1))
		for _, v := range data {
			if !math.IsNaN(float64(v)) {
				lo, hi = min(lo, v), max(hi, v)
			}
		}
		if lo > hi {
			lo, hi = 0, 1
		}
		iw, ih := fitAspect(fm.W, fm.H, cell, cell)
		x := area.X + (ch%cols)*(cell+1)
		y := area.Y + (ch/cols)*(cell+1)
		s.Image(x, y, iw, ih, fm.W, fm.H, 1, data, BlitRamp, lo, hi)
	}
}

// drawKernels adds horizontal bars of per-kernel GPU time, longest first.
func drawKernels(s *Scene, b Box, snap *Snapshot) {
	s.Fill(b.X, b.Y, b.W, b.H, theme.Panel)
	if b.W < 32 || b.H < 32 {
		return
	}
	if snap == nil || len(snap.KernelTimes) == 0 {
		s.Text(b.X+4, b.Y+3, "GPU time per kernel", theme.Title, 1)
		s.Text(b.X+4, b.Y+3+lineH, Fit("no kernel times: train with --profile to record them", b.W-8, 1), theme.Dim, 1)
		return
	}
	kts := append([]KernelTime(nil), snap.KernelTimes...)
	sort.SliceStable(kts, func(i, j int) bool { return kts[i].TotalMs > kts[j].TotalMs })
	total := 0.0
	for _, k := range kts {
		total += k.TotalMs
	}
	s.Text(b.X+4, b.Y+3, Fit(fmt.Sprintf("GPU time per kernel (%s total)", formatMs(total)), b.W-8, 1), theme.Title, 1)
	nameW := min(22*FontAdvance, b.W/3)
	valueW := 9 * FontAdvance
	barX := b.X + 4 + nameW + 4
	barW := b.W - 8 - nameW - 4 - valueW
	rows := (b.H - lineH - 6) / lineH
	top := kts[0].TotalMs
	for i := 0; i < len(kts) && i < rows; i++ {
		k := kts[i]
		y := b.Y + lineH + 4 + i*lineH
		s.Text(b.X+4, y, Fit(k.Name, nameW, 1), theme.Text, 1)
		if barW > 0 && top > 0 {
			s.Fill(barX, y+2, max(1, int(float64(barW)*k.TotalMs/top)), FontHeight-3, theme.Bar)
		}
		s.TextRight(b.X+b.W-4, y, formatMs(k.TotalMs), theme.Text, 1)
	}
}

// formatMs writes a duration in milliseconds with three significant digits.
func formatMs(ms float64) string {
	switch {
	case ms >= 1000:
		return fmt.Sprintf("%.3gs", ms/1000)
	case ms >= 1:
		return fmt.Sprintf("%.3gms", ms)
	}
	return fmt.Sprintf("%.3gus", ms*1000)
}
