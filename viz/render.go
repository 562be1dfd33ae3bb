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
	rects, lines, glyphs, blits, batches := encodeScene(s, bgra)
	seq, err := r.dev.NewSequence("viz.draw", engine.SequenceOptions{})
	if err != nil {
		return nil, err
	}
	defer seq.Release()
	w, h := uint32(s.Width), uint32(s.Height)
	seq.Dispatch1D(seq.Kernel("draw_clear"), s.Width*s.Height,
		shaders.DrawClearPush{Width: w, Height: h, Count: w * h, Param: s.Background.Pack(bgra)}, frame)
	if n := len(s.Rects); n > 0 {
		t, err := r.upload("rects", rects, nil)
		if err != nil {
			return nil, err
		}
		r.dispatchGroups(seq, "draw_rects", n, shaders.DrawRectsPush{Width: w, Height: h, Count: uint32(n)}, frame, t)
	}
	if n := len(s.Blits); n > 0 {
		t, err := r.upload("blits", blits, nil)
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
		r.dispatchGroups(seq, "draw_blits", n, shaders.DrawBlitsPush{Width: w, Height: h, Count: uint32(n), Param: flag}, frame, t, pool)
	}
	if len(lines) > 0 {
		t, err := r.upload("lines", lines, nil)
		if err != nil {
			return nil, err
		}
		k := seq.Kernel("draw_lines")
		first := 0
		for _, n := range batches {
			seq.Dispatch1D(k, n, shaders.DrawLinesPush{Width: w, Height: h, Count: uint32(n), Param: uint32(first)}, frame, t)
			first += n
		}
	}
	if n := len(s.Glyphs); n > 0 {
		t, err := r.upload("glyphs", glyphs, nil)
		if err != nil {
			return nil, err
		}
		r.dispatchGroups(seq, "draw_glyphs", n, shaders.DrawGlyphsPush{Width: w, Height: h, Count: uint32(n),
			Param: FontAdvance, Param2: FontHeight}, frame, t, r.font)
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

// encodeScene flattens the scene into the int records the kernels read
// (layouts documented in shaders/draw.comp) and the line batch sizes.
func encodeScene(s *Scene, bgra bool) (rects, lines, glyphs, blits []int32, batches []int) {
	for _, r := range s.Rects {
		rects = append(rects, int32(r.X0), int32(r.Y0), int32(r.X1), int32(r.Y1), int32(r.Color.Pack(bgra)))
	}
	for _, batch := range s.Lines {
		for _, l := range batch {
			lines = append(lines, int32(l.X0), int32(l.Y0), int32(l.X1), int32(l.Y1), int32(l.Color.Pack(bgra)), int32(l.Thickness))
		}
		if len(batch) > 0 {
			batches = append(batches, len(batch))
		}
	}
	for _, g := range s.Glyphs {
		glyphs = append(glyphs, int32(g.X), int32(g.Y), int32(g.Code), int32(g.Color.Pack(bgra)), int32(g.Scale))
	}
	for _, b := range s.Blits {
		blits = append(blits, int32(b.X), int32(b.Y), int32(b.W), int32(b.H), int32(b.Offset), int32(b.SrcW), int32(b.SrcH),
			int32(b.Chan), int32(b.Mode), int32(math.Float32bits(b.Lo)), int32(math.Float32bits(b.Hi)))
	}
	return rects, lines, glyphs, blits, batches
}
