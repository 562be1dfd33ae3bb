package viz

// Box is a rectangle of the window in pixels.
type Box struct{ X, Y, W, H int }

// Empty reports whether the box has no area.
func (b Box) Empty() bool { return b.W <= 0 || b.H <= 0 }

// Contains reports whether pixel (x, y) lies in the box.
func (b Box) Contains(x, y int) bool { return x >= b.X && y >= b.Y && x < b.X+b.W && y < b.Y+b.H }

// Inset shrinks the box by d on every side.
func (b Box) Inset(d int) Box { return Box{b.X + d, b.Y + d, b.W - 2*d, b.H - 2*d} }

// Panel names one panel of the window.
type Panel int

// The panels, in the order the up/down keys cycle through them. Overview
// shows them all; any other value shows that panel alone, enlarged.
const (
	Overview Panel = iota
	LossPanel
	AccuracyPanel
	LRPanel
	SamplesPanel
	FeaturesPanel
	KernelsPanel
	panelCount
)

var panelNames = [...]string{"overview", "loss", "accuracy", "learning rate", "samples", "feature maps", "kernel times"}

func (p Panel) String() string {
	if p >= 0 && p < panelCount {
		return panelNames[p]
	}
	return "panel?"
}

// Layout places every panel for a window size.
type Layout struct {
	Title    Box // one line: run, step, stage, latest numbers
	Status   Box // one line: keys
	Loss     Box
	Accuracy Box
	LR       Box
	Samples  Box
	Features Box
	Kernels  Box
}

// Geometry of the layout.
const (
	margin    = 6
	lineH     = FontHeight + 3
	minWindow = 64
)

// ComputeLayout lays the panels out in a w x h window: a title line, three
// charts stacked on the left (loss, accuracy, learning rate), samples,
// feature maps and kernel times stacked on the right, and a status line.
// With focus other than Overview the focused panel fills the body alone.
func ComputeLayout(w, h int, focus Panel) Layout {
	var l Layout
	if w < minWindow || h < minWindow {
		return l
	}
	l.Title = Box{margin, 2, w - 2*margin, lineH}
	l.Status = Box{margin, h - lineH, w - 2*margin, lineH - 2}
	body := Box{margin, l.Title.Y + lineH + 2, w - 2*margin, h - 2*lineH - 6}
	if focus != Overview {
		*l.panel(focus) = body
		return l
	}
	leftW := body.W * 58 / 100
	left := Box{body.X, body.Y, leftW, body.H}
	right := Box{body.X + leftW + margin, body.Y, body.W - leftW - margin, body.H}
	charts := splitRows(left, []int{38, 34, 28})
	l.Loss, l.Accuracy, l.LR = charts[0], charts[1], charts[2]
	side := splitRows(right, []int{40, 34, 26})
	l.Samples, l.Features, l.Kernels = side[0], side[1], side[2]
	return l
}

// panel returns the box of panel p.
func (l *Layout) panel(p Panel) *Box {
	switch p {
	case LossPanel:
		return &l.Loss
	case AccuracyPanel:
		return &l.Accuracy
	case LRPanel:
		return &l.LR
	case SamplesPanel:
		return &l.Samples
	case FeaturesPanel:
		return &l.Features
	case KernelsPanel:
		return &l.Kernels
	}
	return &Box{}
}

// splitRows cuts b into rows with heights in the given proportions,
// separated by margin.
func splitRows(b Box, weights []int) []Box {
	total := 0
	for _, w := range weights {
		total += w
	}
	avail := b.H - margin*(len(weights)-1)
	out := make([]Box, len(weights))
	y := b.Y
	for i, w := range weights {
		h := avail * w / total
		if i == len(weights)-1 {
			h = b.Y + b.H - y
		}
		out[i] = Box{b.X, y, b.W, h}
		y += h + margin
	}
	return out
}

// GridShape picks columns and rows for n cells of aspect cellH/cellW ~ 1 +
// extra (label lines) in a w x h area, maximizing the cell size.
func GridShape(n, w, h, extra int) (cols, rows, cell int) {
	if n <= 0 || w <= 0 || h <= 0 {
		return 0, 0, 0
	}
	for c := 1; c <= n; c++ {
		r := (n + c - 1) / c
		size := min(w/c, h/r-extra)
		if size > cell {
			cols, rows, cell = c, r, size
		}
	}
	return cols, rows, cell
}
