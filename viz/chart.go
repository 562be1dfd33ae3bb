package viz

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Series is one curve of a chart.
type Series struct {
	Name  string
	Color Color
	X, Y  []float64
}

// Chart maps data to pixels inside a panel: the panel's two header lines
// hold the title, the legend and the stage labels; tick labels sit left of
// and below the plot area.
type Chart struct {
	Panel      Box
	Plot       Box
	XMin, XMax float64
	YMin, YMax float64
	XTicks     []float64
	YTicks     []float64
	Percent    bool // Y values are fractions shown as percentages
}

// Chart geometry.
const (
	chartTop    = 2*lineH + 4
	chartLeft   = 7*FontAdvance + 6
	chartBottom = lineH + 2
	chartRight  = 10
)

// NewChart fits the axes to the series' finite values (yMin/yMax, when
// finite, fix that end of the Y axis) and rounds them to tick marks.
func NewChart(panel Box, series []Series, yMin, yMax float64, percent bool) Chart {
	c := Chart{Panel: panel, Percent: percent}
	c.Plot = Box{panel.X + chartLeft, panel.Y + chartTop, panel.W - chartLeft - chartRight, panel.H - chartTop - chartBottom}
	xlo, xhi, ylo, yhi := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, s := range series {
		for i := range s.X {
			if i >= len(s.Y) || !finite(s.X[i]) || !finite(s.Y[i]) {
				continue
			}
			xlo, xhi = math.Min(xlo, s.X[i]), math.Max(xhi, s.X[i])
			ylo, yhi = math.Min(ylo, s.Y[i]), math.Max(yhi, s.Y[i])
		}
	}
	if xlo > xhi {
		xlo, xhi, ylo, yhi = 0, 1, 0, 1
	}
	if finite(yMin) {
		ylo = yMin
	}
	if finite(yMax) {
		yhi = yMax
	}
	if xhi <= xlo {
		xhi = xlo + 1
	}
	if yhi <= ylo {
		pad := math.Max(math.Abs(yhi)*0.1, 1e-6)
		ylo, yhi = ylo-pad, yhi+pad
		if finite(yMin) {
			ylo = yMin
		}
	}
	// The X axis spans the data exactly (training only moves right); ticks
	// are the round values inside it.
	ticks, _, _ := NiceTicks(xlo, xhi, max(2, c.Plot.W/90))
	c.XMin, c.XMax = xlo, xhi
	for _, v := range ticks {
		if v >= xlo && v <= xhi {
			c.XTicks = append(c.XTicks, v)
		}
	}
	c.YTicks, c.YMin, c.YMax = NiceTicks(ylo, yhi, max(2, c.Plot.H/32))
	if finite(yMin) {
		c.YMin = yMin
	}
	if finite(yMax) {
		c.YMax = yMax
	}
	return c
}

// Px maps a data point to a pixel of the plot area.
func (c Chart) Px(x, y float64) (int, int) {
	fx := (x - c.XMin) / (c.XMax - c.XMin)
	fy := (y - c.YMin) / (c.YMax - c.YMin)
	px := c.Plot.X + int(math.Round(fx*float64(c.Plot.W-1)))
	py := c.Plot.Y + c.Plot.H - 1 - int(math.Round(fy*float64(c.Plot.H-1)))
	return px, py
}

// NiceTicks returns about n round tick values covering lo..hi (steps of 1,
// 2 or 5 times a power of ten) and the range they span.
func NiceTicks(lo, hi float64, n int) (ticks []float64, min, max float64) {
	if n < 1 {
		n = 1
	}
	span := hi - lo
	if span <= 0 || !finite(span) {
		return []float64{lo}, lo, lo + 1
	}
	raw := span / float64(n)
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	step := p
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			step = m * p
			break
		}
	}
	min = math.Floor(lo/step) * step
	max = math.Ceil(hi/step-1e-9) * step
	for v := min; v <= max+step*1e-6; v += step {
		ticks = append(ticks, math.Round(v/step)*step)
	}
	return ticks, min, max
}

// MaxTickChars is the most characters a tick label takes: the chart's left
// margin (chartLeft) holds that many.
const MaxTickChars = 7

// FormatTick writes a tick value compactly (1.5k, 0.001, 2e-5, 45%) in at
// most MaxTickChars characters, whatever the value (NaN, infinities and
// float noise such as 0.30000000000000004 included).
func FormatTick(v float64, percent bool) string {
	if percent {
		return compactNumber(v*100, MaxTickChars-1) + "%"
	}
	return compactNumber(v, MaxTickChars)
}

// compactNumber writes v in at most width (>= 6) characters.
func compactNumber(v float64, width int) string {
	a := math.Abs(v)
	var s string
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "inf"
	case math.IsInf(v, -1):
		return "-inf"
	case v == 0:
		return "0"
	case a >= 1e9:
		s = withUnit(v/1e9, width, "G")
	case a >= 1e6:
		s = withUnit(v/1e6, width, "M")
	case a >= 1e4:
		s = withUnit(v/1e3, width, "k")
	case a >= 1e-3:
		s = fixed(v, width)
	}
	if s == "" || s == "0" || s == "-0" {
		s = exponent(v) // "2e-5", "1e300", "-1e-298"
	}
	if len(s) > width {
		return "~0" // only |v| < 1e-99 in a 6-character space
	}
	return s
}

// withUnit writes v (already divided by the unit's size) and the unit, or
// "" when it does not fit width.
func withUnit(v float64, width int, unit string) string {
	if s := fixed(v, width-len(unit)); s != "" {
		return s + unit
	}
	return ""
}

// exponent writes v as one digit and a power of ten, without a "+" or
// leading zeros in the exponent.
func exponent(v float64) string {
	s := strconv.FormatFloat(v, 'e', 0, 64)
	mant, exp, _ := strings.Cut(s, "e")
	sign := ""
	if exp[0] == '-' {
		sign = "-"
	}
	exp = strings.TrimLeft(exp[1:], "0")
	return mant + "e" + sign + exp
}

// fixed writes v with up to 4 decimals, as many as width allows, trailing
// zeros dropped ("" when even the integer part does not fit).
func fixed(v float64, width int) string {
	digits := len(strconv.FormatFloat(math.Abs(v), 'f', 0, 64))
	if v < 0 {
		digits++
	}
	decimals := min(4, width-digits-1)
	if decimals < 0 {
		decimals = 0
	}
	s := strconv.FormatFloat(v, 'f', decimals, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if len(s) > width {
		return ""
	}
	return s
}

// Draw adds the chart to the scene: frame, grid, tick labels, stage
// markers with their image sizes, legend and curves.
func (c Chart) Draw(s *Scene, title string, series []Series, stages []StageMark) {
	p := c.Panel
	s.Fill(p.X, p.Y, p.W, p.H, theme.Panel)
	if c.Plot.W < 16 || c.Plot.H < 16 {
		s.Text(p.X+4, p.Y+3, Fit(title, p.W-8, 1), theme.Title, 1)
		return
	}
	x := p.X + 4 + s.Text(p.X+4, p.Y+3, title, theme.Title, 1) + 2*FontAdvance
	for _, se := range series {
		if x+3*FontAdvance+TextWidth(se.Name, 1) > p.X+p.W {
			break
		}
		s.Fill(x, p.Y+3+FontHeight/2-1, 2*FontAdvance, 3, se.Color)
		x += 2*FontAdvance + 4
		x += s.Text(x, p.Y+3, se.Name, theme.Text, 1) + 2*FontAdvance
	}
	pl := c.Plot
	s.Fill(pl.X, pl.Y, pl.W, pl.H, theme.PlotBG)
	for _, v := range c.YTicks {
		_, y := c.Px(c.XMin, v)
		if y < pl.Y || y >= pl.Y+pl.H {
			continue
		}
		s.Fill(pl.X, y, pl.W, 1, theme.Grid)
		s.TextRight(pl.X-4, y-FontHeight/2, FormatTick(v, c.Percent), theme.Text, 1)
	}
	lastRight := math.MinInt
	for _, v := range c.XTicks {
		x, _ := c.Px(v, c.YMin)
		if x < pl.X || x >= pl.X+pl.W {
			continue
		}
		s.Fill(x, pl.Y, 1, pl.H, theme.Grid)
		label := FormatTick(v, false)
		lx := x - TextWidth(label, 1)/2
		if lx > lastRight+FontAdvance {
			s.Text(lx, pl.Y+pl.H+3, label, theme.Text, 1)
			lastRight = lx + TextWidth(label, 1)
		}
	}
	lastLabel := math.MinInt
	for i, st := range stages {
		x, _ := c.Px(float64(st.Step), c.YMin)
		if x < pl.X || x >= pl.X+pl.W {
			continue
		}
		if i > 0 {
			s.Fill(x, pl.Y, 1, pl.H, theme.Stage)
		}
		label := fmt.Sprintf("%dpx", st.ImageSize)
		if i == 0 || x >= lastLabel {
			s.Text(x+2, pl.Y-lineH+1, label, theme.Stage, 1)
			lastLabel = x + 2 + TextWidth(label, 1) + FontAdvance
		}
	}
	s.Frame(pl.X-1, pl.Y-1, pl.W+2, pl.H+2, theme.Axis)
	for _, se := range series {
		c.curve(s, se)
	}
}

// curve adds one series as a polyline, dropping points that land on the
// same pixel as the previous one and breaking at non-finite values.
func (c Chart) curve(s *Scene, se Series) {
	var xs, ys []int
	flush := func() {
		if len(xs) > 0 {
			s.Polyline(xs, ys, se.Color, 2)
		}
		xs, ys = nil, nil
	}
	for i := range se.X {
		if i >= len(se.Y) || !finite(se.X[i]) || !finite(se.Y[i]) {
			flush()
			continue
		}
		x, y := c.Px(se.X[i], se.Y[i])
		y = min(max(y, c.Plot.Y), c.Plot.Y+c.Plot.H-1)
		if n := len(xs); n > 0 && xs[n-1] == x && ys[n-1] == y {
			continue
		}
		xs, ys = append(xs, x), append(ys, y)
	}
	flush()
}
