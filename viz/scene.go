package viz

import "math"

// Color is an opaque 8-bit RGB colour.
type Color struct{ R, G, B uint8 }

// Pack returns the colour as one uint32 pixel in the target's byte order:
// B, G, R, A in memory when bgra, else R, G, B, A.
func (c Color) Pack(bgra bool) uint32 {
	if bgra {
		return uint32(c.B) | uint32(c.G)<<8 | uint32(c.R)<<16 | 0xff000000
	}
	return uint32(c.R) | uint32(c.G)<<8 | uint32(c.B)<<16 | 0xff000000
}

// Unpack is the inverse of Pack.
func Unpack(p uint32, bgra bool) Color {
	if bgra {
		return Color{R: uint8(p >> 16), G: uint8(p >> 8), B: uint8(p)}
	}
	return Color{R: uint8(p), G: uint8(p >> 8), B: uint8(p >> 16)}
}

// Rect is a filled rectangle [X0, X1) x [Y0, Y1).
type Rect struct {
	X0, Y0, X1, Y1 int
	Color          Color
}

// Line is a segment from (X0, Y0) to (X1, Y1), both ends included, drawn
// with a Thickness x Thickness pen.
type Line struct {
	X0, Y0, X1, Y1 int
	Color          Color
	Thickness      int
}

// Glyph is one character of the bitmap font at (X, Y) (its cell's top left),
// magnified Scale times.
type Glyph struct {
	X, Y  int
	Code  int // font index (see glyphIndex)
	Color Color
	Scale int
}

// BlitMode says how an image's values become colours.
type BlitMode int

// Blit modes.
const (
	// BlitDirect maps (v - Lo) / (Hi - Lo) to gray (1 channel) or RGB (3).
	BlitDirect BlitMode = 0
	// BlitRamp maps channel 0 through the feature-map colour ramp.
	BlitRamp BlitMode = 1
)

// Blit draws an image from the scene's float pool, scaled (nearest) into
// the W x H rectangle at (X, Y).
type Blit struct {
	X, Y, W, H       int
	Offset           int // first value in Scene.Pool
	SrcW, SrcH, Chan int // source size; HWC layout
	Mode             BlitMode
	Lo, Hi           float32
}

// Scene is a display list for one frame: the draw_* kernels (and
// Rasterize) draw the background, then the rectangles, the images, each
// line batch in order, and the glyphs last.
type Scene struct {
	Width, Height int
	Background    Color
	Rects         []Rect
	Blits         []Blit
	Lines         [][]Line // batches, drawn one after another
	Glyphs        []Glyph
	Pool          []float32 // image data of the blits
}

// NewScene starts an empty scene.
func NewScene(w, h int, bg Color) *Scene { return &Scene{Width: w, Height: h, Background: bg} }

// Fill adds a filled rectangle of size w x h at (x, y).
func (s *Scene) Fill(x, y, w, h int, c Color) {
	if w > 0 && h > 0 {
		s.Rects = append(s.Rects, Rect{X0: x, Y0: y, X1: x + w, Y1: y + h, Color: c})
	}
}

// Frame adds a 1-pixel rectangle outline.
func (s *Scene) Frame(x, y, w, h int, c Color) {
	s.Fill(x, y, w, 1, c)
	s.Fill(x, y+h-1, w, 1, c)
	s.Fill(x, y, 1, h, c)
	s.Fill(x+w-1, y, 1, h, c)
}

// Polyline adds a batch of segments through the points (xs[i], ys[i]).
// Each polyline is its own batch so that overlapping curves are drawn in
// a fixed order.
func (s *Scene) Polyline(xs, ys []int, c Color, thickness int) {
	var batch []Line
	for i := 1; i < len(xs) && i < len(ys); i++ {
		batch = append(batch, Line{X0: xs[i-1], Y0: ys[i-1], X1: xs[i], Y1: ys[i], Color: c, Thickness: thickness})
	}
	if len(xs) == 1 && len(ys) == 1 {
		batch = append(batch, Line{X0: xs[0], Y0: ys[0], X1: xs[0], Y1: ys[0], Color: c, Thickness: thickness + 1})
	}
	if len(batch) > 0 {
		s.Lines = append(s.Lines, batch)
	}
}

// Image adds an image (HWC values) scaled into the w x h rectangle at
// (x, y); values lo..hi span the colour range.
func (s *Scene) Image(x, y, w, h int, srcW, srcH, chans int, data []float32, mode BlitMode, lo, hi float32) {
	if w <= 0 || h <= 0 || srcW <= 0 || srcH <= 0 || len(data) < srcW*srcH*chans {
		return
	}
	s.Blits = append(s.Blits, Blit{X: x, Y: y, W: w, H: h, Offset: len(s.Pool), SrcW: srcW, SrcH: srcH, Chan: chans,
		Mode: mode, Lo: lo, Hi: hi})
	s.Pool = append(s.Pool, data[:srcW*srcH*chans]...)
}

// Text adds a string with its top-left corner at (x, y) and returns its
// width in pixels.
func (s *Scene) Text(x, y int, text string, c Color, scale int) int {
	if scale < 1 {
		scale = 1
	}
	n := 0
	for _, r := range text {
		if r != ' ' {
			s.Glyphs = append(s.Glyphs, Glyph{X: x + n*FontAdvance*scale, Y: y, Code: glyphIndex(r), Color: c, Scale: scale})
		}
		n++
	}
	return n * FontAdvance * scale
}

// TextRight adds a string that ends at x.
func (s *Scene) TextRight(x, y int, text string, c Color, scale int) {
	s.Text(x-TextWidth(text, scale), y, text, c, scale)
}

// TextWidth is the width of text in pixels.
func TextWidth(text string, scale int) int {
	if scale < 1 {
		scale = 1
	}
	n := 0
	for range text {
		n++
	}
	return n * FontAdvance * scale
}

// Fit shortens text with a trailing "~" so that it is at most maxW pixels
// wide.
func Fit(text string, maxW, scale int) string {
	r := []rune(text)
	max := maxW / (FontAdvance * max(scale, 1))
	if len(r) <= max {
		return text
	}
	if max <= 1 {
		return ""
	}
	return string(r[:max-1]) + "~"
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
