package viz

import (
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

func TestLayoutPanelsInsideAndDisjoint(t *testing.T) {
	for _, sz := range [][2]int{{800, 600}, {1280, 800}, {640, 400}, {333, 257}} {
		l := ComputeLayout(sz[0], sz[1], Overview)
		boxes := []Box{l.Title, l.Loss, l.Accuracy, l.LR, l.Samples, l.Features, l.Kernels, l.Status}
		for i, b := range boxes {
			if b.Empty() || b.X < 0 || b.Y < 0 || b.X+b.W > sz[0] || b.Y+b.H > sz[1] {
				t.Errorf("%v: box %d %+v is empty or outside the window", sz, i, b)
			}
			for j := i + 1; j < len(boxes); j++ {
				o := boxes[j]
				if b.X < o.X+o.W && o.X < b.X+b.W && b.Y < o.Y+o.H && o.Y < b.Y+b.H {
					t.Errorf("%v: boxes %d %+v and %d %+v overlap", sz, i, b, j, o)
				}
			}
		}
	}
	l := ComputeLayout(800, 600, FeaturesPanel)
	if !l.Loss.Empty() || l.Features.W < 700 || l.Features.H < 500 {
		t.Errorf("focus on features: %+v", l)
	}
	if l := ComputeLayout(10, 10, Overview); !l.Title.Empty() {
		t.Errorf("a tiny window should get no panels: %+v", l)
	}
}

func TestViewKeys(t *testing.T) {
	var v View
	if v.Press(KeyRight) || v.Press(KeyRight) || v.Layer != 2 {
		t.Errorf("right twice: layer %d", v.Layer)
	}
	v.Press(KeyLeft)
	v.Press(KeyUp)
	if v.Layer != 1 || v.Focus != KernelsPanel {
		t.Errorf("left then up from overview: %+v", v)
	}
	v.Press(KeyDown)
	if v.Focus != Overview {
		t.Errorf("down wraps to overview: %+v", v)
	}
	if !v.Press(KeyQuit) {
		t.Error("quit key does not quit")
	}
}

func TestNiceTicksAndFormat(t *testing.T) {
	ticks, lo, hi := NiceTicks(0.13, 2.71, 6)
	if lo != 0 || hi != 3 || len(ticks) != 7 || ticks[1] != 0.5 {
		t.Errorf("ticks of 0.13..2.71: %v [%v, %v]", ticks, lo, hi)
	}
	ticks, lo, hi = NiceTicks(0, 120, 4)
	if lo != 0 || hi != 150 || ticks[1] != 50 {
		t.Errorf("ticks of 0..120: %v [%v, %v]", ticks, lo, hi)
	}
	for v, want := range map[float64]string{0: "0", 0.015: "0.015", 25000: "25k", 2e-5: "2e-5", 3: "3", 1.5e6: "1.5M"} {
		if got := FormatTick(v, false); got != want {
			t.Errorf("FormatTick(%v) = %q want %q", v, got, want)
		}
	}
	if got := FormatTick(0.5, true); got != "50%" {
		t.Errorf("percent tick: %q", got)
	}
}

func TestChartMapsDataToPlotCorners(t *testing.T) {
	c := NewChart(Box{10, 20, 400, 300}, []Series{{X: []float64{100, 200}, Y: []float64{1, 2}}}, 0, math.NaN(), false)
	x, y := c.Px(100, 0)
	if x != c.Plot.X || y != c.Plot.Y+c.Plot.H-1 {
		t.Errorf("(100, 0) -> (%d, %d), want the plot's bottom-left (%d, %d)", x, y, c.Plot.X, c.Plot.Y+c.Plot.H-1)
	}
	x, _ = c.Px(200, 2)
	if x != c.Plot.X+c.Plot.W-1 {
		t.Errorf("last step -> x %d, want the plot's right edge %d", x, c.Plot.X+c.Plot.W-1)
	}
	if err := enginetest.Between(c.YMax, 2, math.MaxFloat64); c.YMin != 0 || err != nil {
		t.Errorf("y axis %v..%v should start at 0 and cover 2 (top: %v)", c.YMin, c.YMax, err)
	}
}

func TestSampleGridFits(t *testing.T) {
	for _, c := range [][3]int{{16, 316, 190}, {16, 800, 500}, {3, 300, 200}, {32, 120, 80}} {
		n, cols, cell := SampleGrid(c[0], c[1], c[2])
		if n == 0 {
			t.Errorf("%v: nothing fits", c)
			continue
		}
		rows := (n + cols - 1) / cols
		if n > c[0] || cols*(c[1]/cols) > c[1] || c[1]/cols < sampleMinW || rows*(cell+sampleLabels) > c[2] || cell < sampleMinImg {
			t.Errorf("%v: %d samples in %d columns of cell %d do not fit", c, n, cols, cell)
		}
	}
}

// TestFormatTickFits: awkward values stay within the chart's label margin
// and read as what they are.
func TestFormatTickFits(t *testing.T) {
	cases := []struct {
		v       float64
		percent bool
		want    string
	}{
		{1e-7, false, "1e-7"},
		{0.999999, false, "1"},
		{0.999999, true, "100%"},
		{0.987654, true, "98.765%"},
		{1e9, false, "1G"},
		{-2.5, false, "-2.5"},
		{-0.0015, false, "-0.0015"},
		{math.NaN(), false, "NaN"},
		{math.NaN(), true, "NaN%"},
		{math.Inf(-1), false, "-inf"},
		{0.1 + 0.2, true, "30%"},
		{0.30000000000000004, false, "0.3"},
		{1234.5678, false, "1234.57"},
		{-12345678, false, "-12.35M"},
		{1e300, false, "1e300"},
		{-1e-300, false, "-1e-300"},
		{-1e-300, true, "~0%"},
		{0.0000001, true, "1e-5%"},
	}
	for _, c := range cases {
		got := FormatTick(c.v, c.percent)
		if len(got) > MaxTickChars {
			t.Errorf("FormatTick(%v, %v) = %q: %d characters, the margin holds %d", c.v, c.percent, got, len(got), MaxTickChars)
		}
		if got != c.want {
			t.Errorf("FormatTick(%v, %v) = %q, want %q", c.v, c.percent, got, c.want)
		}
	}
	for _, v := range []float64{-9999.99, 9999.9999, -0.00999, 123456789, -1e15, 0.12345678} {
		for _, pct := range []bool{false, true} {
			if got := FormatTick(v, pct); len(got) > MaxTickChars || got == "" {
				t.Errorf("FormatTick(%v, %v) = %q", v, pct, got)
			}
		}
	}
}
