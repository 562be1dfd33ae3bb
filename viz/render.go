package viz

import (
	"fmt"
	"math"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// Renderer rasterizes scenes on the GPU with the draw_* kernels into a
// frame tensor (one uint32 per pixel). Its buffers grow as scenes need.
type Renderer struct {
	dev   *engine.Device
	frame *engine.Tensor
	font  *engine.Tensor
	bufs  map[string]*growBuffer
}

// growBuffer is a device tensor with a host copy of its full length (uploads
// must cover the whole tensor).
type growBuffer struct {
	t    *engine.Tensor
	dt   engine.DType
	ints []int32
	flts []float32
}

// NewRenderer prepares a renderer on dev.
func NewRenderer(dev *engine.Device) (*Renderer, error) {
	r := &Renderer{dev: dev, bufs: map[string]*growBuffer{}}
	rows := FontRows()
	font, err := dev.NewTensor("viz.font", engine.Uint32, len(rows))
	if err != nil {
		return nil, err
	}
	if err := font.Upload(rows); err != nil {
		font.Free()
		return nil, err
	}
	r.font = font
	return r, nil
}

// Close frees the renderer's tensors.
func (r *Renderer) Close() {
	r.frame.Free()
	r.font.Free()
	for _, b := range r.bufs {
		b.t.Free()
	}
	r.bufs = nil
}

// upload copies data (int32 or float32 values) into the named buffer,
// growing it to the next power of two when too small.
func (r *Renderer) upload(name string, ints []int32, flts []float32) (*engine.Tensor, error) {
	n, dt := len(ints), engine.Int32
	if flts != nil {
		n, dt = len(flts), engine.Float32
	}
	b := r.bufs[name]
	if b == nil || b.t.Len() < n {
		size := 1024
		for size < n {
			size *= 2
		}
		if b != nil {
			b.t.Free()
		}
		t, err := r.dev.NewTensor("viz."+name, dt, size)
		if err != nil {
			return nil, fmt.Errorf("viz: %s buffer of %d values: %w", name, size, err)
		}
		b = &growBuffer{t: t, dt: dt}
		if dt == engine.Int32 {
			b.ints = make([]int32, size)
		} else {
			b.flts = make([]float32, size)
		}
		r.bufs[name] = b
	}
	if dt == engine.Int32 {
		copy(b.ints, ints)
		return b.t, b.t.Upload(b.ints)
	}
	copy(b.flts, flts)
	return b.t, b.t.Upload(b.flts)
}

// Frame returns the frame tensor for a w x h canvas, reallocating it when
// the size changed.
func (r *Renderer) Frame(w, h int) (*engine.Tensor, error) {
	if r.frame != nil && r.frame.Shape[0] == h && r.frame.Shape[1] == w {
		return r.frame, nil
	}
	r.frame.Free()
	r.frame = nil
	t, err := r.dev.NewTensor("viz.frame", engine.Uint32, h, w)
	if err != nil {
		return nil, err
	}
	r.frame = t
	return t, nil
}

// Draw rasterizes s into the frame tensor (pixels packed as
// Color.Pack(bgra)) and returns it.
func (r *Renderer) Draw(s *Scene, bgra bool) (*engine.Tensor, error) {
	if s.Width <= 0 || s.Height <= 0 {
		return nil, fmt.Errorf("viz: empty scene %dx%d", s.Width, s.Height)
	}
	frame, err := r.Frame(s.Width, s.Height)
	if err != nil {
		return nil, err
	}
	enc := encodeScene(s, bgra)
	seq, err := r.dev.NewSequence("viz.draw", engine.SequenceOptions{})
	if err != nil {
		return nil, err
	}
	defer seq.Release()
	w, h := uint32(s.Width), uint32(s.Height)
	seq.Dispatch1D(seq.Kernel("draw_clear"), s.Width*s.Height,
		shaders.DrawClearPush{Width: w, Height: h, Count: w * h, Param: s.Background.Pack(bgra)}, frame)
	if len(enc.rects.levels) > 0 {
		t, err := r.upload("rects", enc.rects.records, nil)
		if err != nil {
			return nil, err
		}
		for _, lv := range enc.rects.levels {
			r.dispatchGroups(seq, "draw_rects", lv.count, shaders.DrawRectsPush{Width: w, Height: h, Count: uint32(lv.count), First: uint32(lv.first)}, frame, t)
		}
	}
	if len(enc.blits.levels) > 0 {
		t, err := r.upload("blits", enc.blits.records, nil)
		if err != nil {
			return nil, err
		}
		pool, err := r.upload("pool", nil, s.Pool)
		if err != nil {
			return nil, err
		}
		var flag uint32
		if bgra {
			flag = 1
		}
		for _, lv := range enc.blits.levels {
			r.dispatchGroups(seq, "draw_blits", lv.count, shaders.DrawBlitsPush{Width: w, Height: h, Count: uint32(lv.count), First: uint32(lv.first), Param: flag}, frame, t, pool)
		}
	}
	if len(enc.lines.levels) > 0 {
		t, err := r.upload("lines", enc.lines.records, nil)
		if err != nil {
			return nil, err
		}
		k := seq.Kernel("draw_lines")
		for _, lv := range enc.lines.levels {
			seq.Dispatch1D(k, lv.count, shaders.DrawLinesPush{Width: w, Height: h, Count: uint32(lv.count), First: uint32(lv.first)}, frame, t)
		}
	}
	if len(enc.glyphs.levels) > 0 {
		t, err := r.upload("glyphs", enc.glyphs.records, nil)
		if err != nil {
			return nil, err
		}
		for _, lv := range enc.glyphs.levels {
			r.dispatchGroups(seq, "draw_glyphs", lv.count, shaders.DrawGlyphsPush{Width: w, Height: h, Count: uint32(lv.count), First: uint32(lv.first),
				Param: FontAdvance, Param2: FontHeight}, frame, t, r.font)
		}
	}
	if err := r.dev.Run(seq); err != nil {
		return nil, fmt.Errorf("viz: drawing a %dx%d frame: %w", s.Width, s.Height, err)
	}
	return frame, nil
}

// dispatchGroups records kernel name with one workgroup per primitive.
func (r *Renderer) dispatchGroups(seq *engine.Sequence, name string, n int, push any, args ...*engine.Tensor) {
	g, err := r.dev.FoldGroups(n)
	if err != nil {
		seq.Fail(fmt.Errorf("%s over %d primitives: %w", name, n, err))
		return
	}
	seq.Dispatch(seq.Kernel(name), g, push, args...)
}

// level is a run of primitives that do not overlap one another, drawn by
// one dispatch.
type level struct{ first, count int }

// encoded is one kind of primitive as the kernels read it: flat int
// records (layouts in shaders/draw.comp), grouped into levels.
type encoded struct {
	records []int32
	levels  []level
}

// encodedScene is a whole scene, ready to upload.
type encodedScene struct{ rects, blits, lines, glyphs encoded }

// encodeScene flattens the scene into the kernels' records. Primitives of
// one dispatch are drawn in no particular order, so overlapping ones go to
// later levels (dispatches) and the result equals drawing in list order.
func encodeScene(s *Scene, bgra bool) encodedScene {
	var e encodedScene
	e.rects = encodeLevels(len(s.Rects), 5, func(i int) Box {
		r := s.Rects[i]
		return Box{r.X0, r.Y0, r.X1 - r.X0, r.Y1 - r.Y0}
	}, func(i int) []int32 {
		r := s.Rects[i]
		return []int32{int32(r.X0), int32(r.Y0), int32(r.X1), int32(r.Y1), int32(r.Color.Pack(bgra))}
	})
	e.blits = encodeLevels(len(s.Blits), 11, func(i int) Box {
		b := s.Blits[i]
		return Box{b.X, b.Y, b.W, b.H}
	}, func(i int) []int32 {
		b := s.Blits[i]
		return []int32{int32(b.X), int32(b.Y), int32(b.W), int32(b.H), int32(b.Offset), int32(b.SrcW), int32(b.SrcH),
			int32(b.Chan), int32(b.Mode), int32(math.Float32bits(b.Lo)), int32(math.Float32bits(b.Hi))}
	})
	e.glyphs = encodeLevels(len(s.Glyphs), 5, func(i int) Box {
		g := s.Glyphs[i]
		sc := max(g.Scale, 1)
		return Box{g.X, g.Y, FontAdvance * sc, FontHeight * sc}
	}, func(i int) []int32 {
		g := s.Glyphs[i]
		return []int32{int32(g.X), int32(g.Y), int32(g.Code), int32(g.Color.Pack(bgra)), int32(g.Scale)}
	})
	// Each line batch (one curve, one colour) is its own level.
	for _, batch := range s.Lines {
		if len(batch) == 0 {
			continue
		}
		e.lines.levels = append(e.lines.levels, level{first: len(e.lines.records) / 6, count: len(batch)})
		for _, l := range batch {
			e.lines.records = append(e.lines.records, int32(l.X0), int32(l.Y0), int32(l.X1), int32(l.Y1), int32(l.Color.Pack(bgra)), int32(l.Thickness))
		}
	}
	return e
}

// encodeLevels gives each of n primitives the level after the highest level
// of the earlier primitives it overlaps, and writes the records level by
// level.
func encodeLevels(n, size int, box func(i int) Box, record func(i int) []int32) encoded {
	var e encoded
	if n == 0 {
		return e
	}
	lv := make([]int, n)
	boxes := make([]Box, n)
	top := 0
	for j := 0; j < n; j++ {
		boxes[j] = box(j)
		for i := 0; i < j; i++ {
			if lv[i] >= lv[j] && overlaps(boxes[i], boxes[j]) {
				lv[j] = lv[i] + 1
			}
		}
		top = max(top, lv[j])
	}
	e.records = make([]int32, 0, n*size)
	for l := 0; l <= top; l++ {
		first := len(e.records) / size
		for i := 0; i < n; i++ {
			if lv[i] == l {
				e.records = append(e.records, record(i)...)
			}
		}
		if c := len(e.records)/size - first; c > 0 {
			e.levels = append(e.levels, level{first: first, count: c})
		}
	}
	return e
}

// overlaps reports whether two boxes share a pixel.
func overlaps(a, b Box) bool {
	return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
}
