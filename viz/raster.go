package viz

import "math"

// Rasterize draws the scene on the CPU, pixel for pixel as the draw_*
// kernels do (shaders/draw.comp): it is their reference, and a fallback for
// layout tests that need no GPU. Pixels are packed as Color.Pack(bgra).
func Rasterize(s *Scene, bgra bool) []uint32 {
	w, h := s.Width, s.Height
	px := make([]uint32, w*h)
	bg := s.Background.Pack(bgra)
	for i := range px {
		px[i] = bg
	}
	put := func(x, y int, c uint32) {
		if x >= 0 && y >= 0 && x < w && y < h {
			px[y*w+x] = c
		}
	}
	for _, r := range s.Rects {
		c := r.Color.Pack(bgra)
		for y := max(r.Y0, 0); y < min(r.Y1, h); y++ {
			for x := max(r.X0, 0); x < min(r.X1, w); x++ {
				px[y*w+x] = c
			}
		}
	}
	for _, b := range s.Blits {
		rasterBlit(b, s.Pool, bgra, put)
	}
	for _, batch := range s.Lines {
		for _, l := range batch {
			rasterLine(l, bgra, put)
		}
	}
	rows := FontRows()
	for _, g := range s.Glyphs {
		c := g.Color.Pack(bgra)
		sc := max(g.Scale, 1)
		for py := 0; py < FontHeight*sc; py++ {
			bits := rows[g.Code*FontHeight+py/sc]
			for qx := 0; qx < FontAdvance*sc; qx++ {
				if bits&(1<<(qx/sc)) != 0 {
					put(g.X+qx, g.Y+py, c)
				}
			}
		}
	}
	return px
}

// rasterLine is Bresenham with a square pen, as draw_lines.
func rasterLine(l Line, bgra bool, put func(x, y int, c uint32)) {
	c := l.Color.Pack(bgra)
	t := max(l.Thickness, 1)
	dx, dy := abs(l.X1-l.X0), -abs(l.Y1-l.Y0)
	sx, sy := 1, 1
	if l.X0 >= l.X1 {
		sx = -1
	}
	if l.Y0 >= l.Y1 {
		sy = -1
	}
	e := dx + dy
	x, y := l.X0, l.Y0
	for step := 0; step < 8192; step++ {
		for oy := 0; oy < t; oy++ {
			for ox := 0; ox < t; ox++ {
				put(x-t/2+ox, y-t/2+oy, c)
			}
		}
		if x == l.X1 && y == l.Y1 {
			break
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x += sx
		}
		if e2 <= dx {
			e += dx
			y += sy
		}
	}
}

// rasterBlit is nearest-neighbour scaling with the value mapping of
// draw_blits (float32 arithmetic, as on the GPU).
func rasterBlit(b Blit, pool []float32, bgra bool, put func(x, y int, c uint32)) {
	var scale float32
	if b.Hi > b.Lo {
		scale = 1 / (b.Hi - b.Lo)
	}
	for y := 0; y < b.H; y++ {
		sy := y * b.SrcH / b.H
		for x := 0; x < b.W; x++ {
			sx := x * b.SrcW / b.W
			at := b.Offset + (sy*b.SrcW+sx)*b.Chan
			var c Color
			switch {
			case b.Mode == BlitRamp:
				c = Ramp((pool[at] - b.Lo) * scale)
			case b.Chan >= 3:
				c = Color{unitByte((pool[at] - b.Lo) * scale), unitByte((pool[at+1] - b.Lo) * scale), unitByte((pool[at+2] - b.Lo) * scale)}
			default:
				v := unitByte((pool[at] - b.Lo) * scale)
				c = Color{v, v, v}
			}
			put(b.X+x, b.Y+y, c.Pack(bgra))
		}
	}
}

func unitByte(v float32) uint8 {
	if math.IsNaN(float64(v)) {
		v = 0
	}
	return uint8(min(max(v, 0), 1)*255 + 0.5)
}

// Ramp is the feature-map colour ramp (dark blue, teal, yellow) at t in
// 0..1, as draw_blits computes it.
func Ramp(t float32) Color {
	t = min(max(t, 0), 1)
	var r, g, b float32
	if t < 0.5 {
		r, g, b = 0.1*t, 0.1+1.1*t, 0.4+0.4*t
	} else {
		r, g, b = (t-0.5)*1.9+0.05, 0.65+0.6*(t-0.5), 0.6-1.1*(t-0.5)
	}
	return Color{unitByte(r), unitByte(g), unitByte(b)}
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
