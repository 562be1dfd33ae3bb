package viz

import (
	"fmt"
	"math"
)

// View is what the user chose to look at.
type View struct {
	Focus Panel // Overview or one panel enlarged
	Layer int   // feature map shown (cycles)
	// Finished, once the training behind the window has ended, is its
	// summary line: the status line then says so and how to exit.
	Finished string
}

// Key is a key the window reacts to.
type Key int

// Keys.
const (
	KeyNone  Key = iota
	KeyQuit      // q, Esc
	KeyLeft      // previous layer
	KeyRight     // next layer
	KeyUp        // previous panel
	KeyDown      // next panel
)

// Press applies a key to the view and reports whether the window should
// close.
func (v *View) Press(k Key) (quit bool) {
	switch k {
	case KeyQuit:
		return true
	case KeyLeft:
		v.Layer--
	case KeyRight:
		v.Layer++
	case KeyUp:
		v.Focus = (v.Focus + panelCount - 1) % panelCount
	case KeyDown:
		v.Focus = (v.Focus + 1) % panelCount
	}
	return false
}

// ChartSeries returns the curves of each chart panel, from the run's
// metrics.
func ChartSeries(r *Run) (loss, acc, lr []Series) {
	n := len(r.Train)
	steps, losses, top1, lrs := make([]float64, n), make([]float64, n), make([]float64, n), make([]float64, n)
	for i, p := range r.Train {
		steps[i], losses[i], top1[i], lrs[i] = float64(p.Step), p.Loss, p.Top1, p.LR
	}
	m := len(r.Eval)
	esteps, etop1, ema := make([]float64, m), make([]float64, m), make([]float64, m)
	hasEMA := false
	for i, e := range r.Eval {
		esteps[i], etop1[i], ema[i] = float64(e.Step), e.Top1, e.EMATop1
		hasEMA = hasEMA || finite(e.EMATop1)
	}
	loss = []Series{{Name: "train loss", Color: theme.Loss, X: steps, Y: losses}}
	acc = []Series{{Name: "train top-1", Color: theme.TrainTop1, X: steps, Y: top1}}
	if m > 0 {
		acc = append(acc, Series{Name: "eval top-1", Color: theme.EvalTop1, X: esteps, Y: etop1})
	}
	if hasEMA {
		acc = append(acc, Series{Name: "EMA top-1", Color: theme.EMATop1, X: esteps, Y: ema})
	}
	lr = []Series{{Name: "lr", Color: theme.LR, X: steps, Y: lrs}}
	return loss, acc, lr
}

// Charts returns the three charts as Compose draws them for a w x h window
// (zero charts for panels the view hides), so tests can map data to pixels.
func Charts(r *Run, v View, w, h int) (loss, acc, lr Chart) {
	l := ComputeLayout(w, h, v.Focus)
	ls, as, lrs := ChartSeries(r)
	loss = NewChart(l.Loss, ls, 0, math.NaN(), false)
	acc = NewChart(l.Accuracy, as, 0, 1, true)
	lr = NewChart(l.LR, lrs, 0, math.NaN(), false)
	return loss, acc, lr
}

// Compose builds the scene of one frame of run r for a w x h window.
func Compose(r *Run, v View, w, h int) *Scene {
	s := NewScene(w, h, theme.Background)
	l := ComputeLayout(w, h, v.Focus)
	if l.Title.Empty() {
		return s
	}
	drawTitle(s, l.Title, r)
	status, color := StatusLine(v), theme.Dim
	if v.Finished != "" {
		color = theme.Title
	}
	s.Text(l.Status.X, l.Status.Y, Fit(status, l.Status.W, 1), color, 1)
	if r.Empty() {
		msg := fmt.Sprintf("waiting for training output in %s (%s, %s)", r.Dir, MetricsFile, SnapshotFile)
		s.Text(max(margin, (w-TextWidth(msg, 1))/2), h/2-FontHeight/2, Fit(msg, w-2*margin, 1), theme.Text, 1)
		return s
	}
	stages := r.Stages()
	ls, as, lrs := ChartSeries(r)
	loss, acc, lr := Charts(r, v, w, h)
	if !l.Loss.Empty() {
		loss.Draw(s, "loss", ls, stages)
	}
	if !l.Accuracy.Empty() {
		acc.Draw(s, "accuracy", as, stages)
	}
	if !l.LR.Empty() {
		lr.Draw(s, "learning rate", lrs, stages)
	}
	if !l.Samples.Empty() {
		drawSamples(s, l.Samples, r.Snapshot)
	}
	if !l.Features.Empty() {
		drawFeatures(s, l.Features, r.Snapshot, v.Layer)
	}
	if !l.Kernels.Empty() {
		drawKernels(s, l.Kernels, r.Snapshot)
	}
	return s
}

// StatusLine is the window's bottom line: the keys, or, once training has
// finished, that it has and how to leave.
func StatusLine(v View) string {
	if v.Finished != "" {
		return "finished: " + v.Finished + "   q/Esc or close the window to exit"
	}
	return fmt.Sprintf("q/Esc quit   <- -> layer   up/down panel (%s)", v.Focus)
}

// drawTitle adds the title line: run, step, stage and the latest numbers.
func drawTitle(s *Scene, b Box, r *Run) {
	text := "effv2vk  " + r.Dir
	if n := len(r.Train); n > 0 {
		p := r.Train[n-1]
		text += fmt.Sprintf("  step %d  epoch %.2f  stage %d (%dpx)  loss %.4g  lr %.3g", p.Step, p.Epoch, p.Stage, p.ImageSize, p.Loss, p.LR)
		if p.ImgPerS > 0 {
			text += fmt.Sprintf("  %.0f img/s", p.ImgPerS)
		}
	}
	if n := len(r.Eval); n > 0 {
		e := r.Eval[n-1]
		text += fmt.Sprintf("  eval top-1 %.1f%%", 100*e.Top1)
		if finite(e.EMATop1) {
			text += fmt.Sprintf(" (EMA %.1f%%)", 100*e.EMATop1)
		}
	}
	s.Text(b.X, b.Y+1, Fit(text, b.W, 1), theme.Title, 1)
}
