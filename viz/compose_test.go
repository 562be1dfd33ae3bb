package viz

import (
	"image"
	"strings"
	"testing"
)

// pixelAt reads pixel (x, y) of an RGBA image as a Color.
func pixelAt(img *image.RGBA, x, y int) Color {
	o := img.PixOffset(x, y)
	return Color{img.Pix[o], img.Pix[o+1], img.Pix[o+2]}
}

// checkCurves asserts that the loss, learning-rate and EMA top-1 curves of
// the fixture run pass through every data point's pixel, and that the loss
// colour appears only inside the loss plot and its legend swatch.
func checkCurves(t *testing.T, img *image.RGBA, r *Run, v View) {
	t.Helper()
	w, h := img.Rect.Dx(), img.Rect.Dy()
	loss, acc, lr := Charts(r, v, w, h)
	lossC, _, _, emaC, lrC := CurveColors()
	miss := 0
	for _, p := range r.Train {
		if x, y := loss.Px(float64(p.Step), p.Loss); pixelAt(img, x, y) != lossC {
			miss++
			if miss < 4 {
				t.Errorf("loss at step %d: pixel (%d, %d) is %v, want the loss colour %v", p.Step, x, y, pixelAt(img, x, y), lossC)
			}
		}
		if x, y := lr.Px(float64(p.Step), p.LR); pixelAt(img, x, y) != lrC {
			miss++
			if miss < 4 {
				t.Errorf("lr at step %d: pixel (%d, %d) is %v, want %v", p.Step, x, y, pixelAt(img, x, y), lrC)
			}
		}
	}
	for _, e := range r.Eval {
		if x, y := acc.Px(float64(e.Step), e.EMATop1); pixelAt(img, x, y) != emaC {
			miss++
			t.Errorf("EMA top-1 at step %d: pixel (%d, %d) is %v, want %v", e.Step, x, y, pixelAt(img, x, y), emaC)
		}
	}
	if miss > 0 {
		t.Errorf("%d data points off their curves", miss)
	}
	legend := Box{loss.Panel.X, loss.Panel.Y, loss.Panel.W, lineH + 2}
	plot := loss.Plot.Inset(-2)
	n := 0
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if pixelAt(img, x, y) != lossC {
				continue
			}
			n++
			if !plot.Contains(x, y) && !legend.Contains(x, y) {
				t.Fatalf("loss colour at (%d, %d), outside the loss plot %+v", x, y, plot)
			}
		}
	}
	if n < len(r.Train) {
		t.Errorf("only %d pixels of the loss colour for %d points", n, len(r.Train))
	}
}

func TestComposeRasterizedShowsCurves(t *testing.T) {
	r := writeFixtureRun(t, t.TempDir())
	for _, sz := range [][2]int{{800, 600}, {1024, 700}} {
		s := Compose(r, View{}, sz[0], sz[1])
		checkCurves(t, ToImage(Rasterize(s, true), sz[0], sz[1], true), r, View{})
	}
	v := View{Focus: LossPanel}
	s := Compose(r, v, 800, 600)
	img := ToImage(Rasterize(s, false), 800, 600, false)
	loss, _, _ := Charts(r, v, 800, 600)
	if loss.Plot.W < 600 {
		t.Errorf("enlarged loss plot only %d wide", loss.Plot.W)
	}
	lossC, _, _, _, _ := CurveColors()
	for _, p := range r.Train {
		if x, y := loss.Px(float64(p.Step), p.Loss); pixelAt(img, x, y) != lossC {
			t.Fatalf("enlarged loss at step %d: pixel (%d, %d) is %v", p.Step, x, y, pixelAt(img, x, y))
		}
	}
}

func TestTextRendersGlyphs(t *testing.T) {
	rows := FontRows()
	blank := func(r rune) bool {
		for y := 0; y < FontHeight; y++ {
			if rows[glyphIndex(r)*FontHeight+y] != 0 {
				return false
			}
		}
		return true
	}
	if !blank(' ') || blank('A') || blank('~') || blank('\u00e9') {
		t.Fatal("font: space must be blank and A, ~ and the replacement glyph inked")
	}
	s := NewScene(60, 20, Color{})
	white := Color{255, 255, 255}
	if w := s.Text(2, 3, "Hi!", white, 1); w != 3*FontAdvance {
		t.Errorf("text width %d", w)
	}
	img := ToImage(Rasterize(s, true), 60, 20, true)
	inked := [3]int{}
	for y := 0; y < 20; y++ {
		for x := 0; x < 60; x++ {
			if pixelAt(img, x, y) == white {
				k := (x - 2) / FontAdvance
				if k < 0 || k > 2 || y < 3 || y >= 3+FontHeight {
					t.Fatalf("ink at (%d, %d) outside the text's cells", x, y)
				}
				inked[k]++
			}
		}
	}
	for k, n := range inked {
		if n < 5 {
			t.Errorf("character %d has only %d inked pixels", k, n)
		}
	}
	if got := Fit("feature_maps_of_layer", 10*FontAdvance, 1); got != "feature_m~" {
		t.Errorf("Fit: %q", got)
	}
}

func TestComposeEmptyRunSaysWaiting(t *testing.T) {
	r := &Run{Dir: "/runs/x"}
	s := Compose(r, View{}, 800, 600)
	if len(s.Lines) != 0 || len(s.Blits) != 0 {
		t.Errorf("an empty run draws curves or images")
	}
	var text []rune
	for _, g := range s.Glyphs {
		text = append(text, rune(' '+g.Code))
	}
	if got := string(text); !strings.Contains(got, "waitingfortrainingoutputin/runs/x") {
		t.Errorf("empty run message missing; glyphs spell %q", got)
	}
}

// TestStatusLineSaysFinished: once training ends the status line says so
// and how to exit, and Compose draws it.
func TestStatusLineSaysFinished(t *testing.T) {
	if got := StatusLine(View{}); !strings.Contains(got, "q/Esc quit") {
		t.Errorf("status while training: %q", got)
	}
	v := View{Finished: "trained 32 steps: test top-1 80.00%"}
	got := StatusLine(v)
	if !strings.HasPrefix(got, "finished: trained 32 steps") || !strings.Contains(got, "close the window to exit") {
		t.Errorf("status after training: %q", got)
	}
	glyphs := func(v View) int { return len(Compose(&Run{Dir: "x"}, v, 1600, 600).Glyphs) }
	if extra, want := glyphs(v)-glyphs(View{}), strings.Count(got, "")-strings.Count(StatusLine(View{}), "")-(strings.Count(got, " ")-strings.Count(StatusLine(View{}), " ")); extra != want {
		t.Errorf("Compose drew %d more glyphs with the finished status, want %d", extra, want)
	}
}
