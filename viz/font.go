package viz

import (
	"image"
	"sync"

	"golang.org/x/image/font/basicfont"
)

// The bitmap font: X11 misc-fixed 7x13 (golang.org/x/image/font/basicfont),
// printable ASCII and a replacement glyph.
const (
	FontAdvance = 7  // pixels from one character to the next
	FontHeight  = 13 // pixels from one line to the next
	fontGlyphs  = 96 // ' '..'~' and U+FFFD
)

// glyphIndex maps a rune to its font index; runes outside printable ASCII
// become the replacement glyph.
func glyphIndex(r rune) int {
	if r >= ' ' && r <= '~' {
		return int(r - ' ')
	}
	return fontGlyphs - 1
}

var fontOnce struct {
	sync.Once
	rows []uint32
}

// FontRows returns the font as one uint32 per glyph row (glyph g, row y at
// index g*FontHeight+y; bit x set where the pixel is inked), the layout the
// draw_glyphs kernel reads.
func FontRows() []uint32 {
	fontOnce.Do(func() {
		face := basicfont.Face7x13
		h := face.Ascent + face.Descent
		rows := make([]uint32, fontGlyphs*FontHeight)
		mask := face.Mask.(*image.Alpha)
		for g := 0; g < fontGlyphs; g++ {
			r := rune(' ' + g)
			if g == fontGlyphs-1 {
				r = '\ufffd'
			}
			off := -1
			for _, rg := range face.Ranges {
				if r >= rg.Low && r < rg.High {
					off = int(r-rg.Low) + rg.Offset
				}
			}
			if off < 0 {
				continue
			}
			for y := 0; y < h && y < FontHeight; y++ {
				var bits uint32
				for x := 0; x < face.Width && x < 32; x++ {
					if mask.AlphaAt(x, off*h+y).A >= 128 {
						bits |= 1 << x
					}
				}
				rows[g*FontHeight+y] = bits
			}
		}
		fontOnce.rows = rows
	})
	return fontOnce.rows
}
