package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// PrepareInput records the turn of a batch of 8-bit images into the
// network's input, as ref.PrepareInput: src is uint8 NHWC [N,H,W,C] with C = 1
// (gray, repeated into three channels) or 3 (RGB); y is float32
// [N,3,outH,outW]:
//
//	v[n,ch,r,q] = (src[n,r,q,ch]/255 - mean[ch]) / std[ch]
//	y           = bilinear resize of v to outH x outW (PyTorch,
//	              align_corners=False, no antialias; see ref.ResizeBilinear)
//
// The device interpolates the bytes and normalizes after, equal up to
// rounding. std must be non-zero.
func PrepareInput(s *engine.Sequence, y, src *engine.Tensor, mean, std [3]float32) {
	const op = "prepare input"
	if !dtypeIs(s, op, "src", src, engine.Uint8) || !dtypeIs(s, op, "y", y, engine.Float32) {
		return
	}
	if len(src.Shape) != 4 || (src.Shape[3] != 1 && src.Shape[3] != 3) {
		s.Fail(fmt.Errorf("%s: source %s must be NHWC [N,H,W,C] with C = 1 (gray) or 3 (RGB)", op, src))
		return
	}
	n, h, w, c := src.Shape[0], src.Shape[1], src.Shape[2], src.Shape[3]
	yn, yc, oh, ow, ok := shape4(s, op, y)
	if !ok {
		return
	}
	if yn != n || yc != 3 {
		s.Fail(fmt.Errorf("%s: output %s must be [%d,3,outH,outW] for source %s", op, y, n, src))
		return
	}
	for ch := range 3 {
		if std[ch] == 0 {
			s.Fail(fmt.Errorf("%s: std[%d] is zero: want the dataset's per-channel standard deviation", op, ch))
			return
		}
	}
	if splitBatch(s, op, func(part batchPart, _ int) { PrepareInput(s, part(y), part(src), mean, std) }, y, src) {
		return
	}
	push := shaders.PrepareInputPush{
		N: uint32(n), H: uint32(h), W: uint32(w), C: uint32(c), OutH: uint32(oh), OutW: uint32(ow),
		ScaleH: float32(float64(h) / float64(oh)), ScaleW: float32(float64(w) / float64(ow)),
		Mean0: mean[0], Mean1: mean[1], Mean2: mean[2], Std0: std[0], Std1: std[1], Std2: std[2],
	}
	inputTuned.record(s, inputCall{y: y, src: src, push: push})
}

// inputKernel is PrepareInput's kernel for a resize from w to ow columns
// and the output pixels of one invocation: eight written as u64vec4s (u64,
// ow % 8 == 0), four as vec4s (ow % 4 == 0) or one; with windows, the
// _narrow or _pairs source windows where the resize allows them.
func inputKernel(w, ow int, u64, windows bool) (string, int) {
	name, per := "prepare_input", 1
	switch {
	case u64 && ow%8 == 0:
		name, per = "prepare_input_u64", 8
	case ow%4 == 0:
		name, per = "prepare_input_vec4", 4
	}
	switch {
	case windows && per > 1 && narrowUpscale(w, ow):
		name += "_narrow"
	case windows && per > 1 && pairWindow(w, ow):
		name += "_pairs"
	}
	return name, per
}

// recordInput records c with kernel name, whose invocations compute per
// output pixels each: grid x covers one image, grid z the images.
func recordInput(s *engine.Sequence, c inputCall, name string, per int) {
	push := c.push
	n, oh, ow := int(push.N), int(push.OutH), int(push.OutW)
	push.InvAcross = float32(1 / float64(ow/per))
	info := s.Device().Info
	groups := ceilDiv(oh*ow/per, seLocalSize)
	if oh*ow/per >= 1<<22 || groups > int(info.MaxWorkgroupCount[0]) || n > int(info.MaxWorkgroupCount[2]) {
		s.Fail(fmt.Errorf("prepare input: %d images of %dx%d: too large for one dispatch on %s (at most 4M pixels per image and %d images): use smaller images or batches", n, oh, ow, info.Name, info.MaxWorkgroupCount[2]))
		return
	}
	grid := engine.Grid{X: groups, Y: 1, Z: n}
	k := s.Kernel(name, seLocal)
	switch name {
	case "prepare_input_u64_pairs":
		s.Dispatch(k, grid, shaders.PrepareInputU64PairsPush(push), c.y, c.src)
	case "prepare_input_u64_narrow":
		s.Dispatch(k, grid, shaders.PrepareInputU64NarrowPush(push), c.y, c.src)
	case "prepare_input_u64":
		s.Dispatch(k, grid, shaders.PrepareInputU64Push(push), c.y, c.src)
	case "prepare_input_vec4_pairs":
		s.Dispatch(k, grid, shaders.PrepareInputVec4PairsPush(push), c.y, c.src)
	case "prepare_input_vec4_narrow":
		s.Dispatch(k, grid, shaders.PrepareInputVec4NarrowPush(push), c.y, c.src)
	case "prepare_input_vec4":
		s.Dispatch(k, grid, shaders.PrepareInputVec4Push(push), c.y, c.src)
	default:
		s.Dispatch(k, grid, push, c.y, c.src)
	}
}

// inputU64 reports whether PrepareInput writes rows of ow pixels in groups
// of eight (its _u64 kernels: one u64vec4 store per channel): on a CPU
// driver with shaderInt64, where a store is a loop over the lanes and this
// halves the loops per value, when ow is a multiple of 8.
func inputU64(d *engine.Device, ow int) bool {
	return defaultsOf(d).cpuShaped && d.Info.Int64 && ow%8 == 0
}

// narrowUpscale reports whether four neighbouring output columns of a
// resize from w to ow columns read at most three neighbouring source
// columns, which the _narrow kernel fetches once: their taps are at most
// 3*w/ow apart, so when that is below 1 (with a margin for float
// rounding) the first columns of their taps differ by at most 1. It also
// needs three source columns.
func narrowUpscale(w, ow int) bool {
	return w >= 3 && 1000*3*w <= 999*ow
}

// pairWindow reports whether two neighbouring output columns of a resize
// from w to ow columns read at most four neighbouring source columns,
// which the _pairs kernels fetch once: their taps are w/ow apart, so when
// that is below 2 (with a margin for float rounding) their first columns
// differ by at most 2. It also needs four source columns.
func pairWindow(w, ow int) bool {
	return w >= 4 && 1000*w <= 1990*ow
}
