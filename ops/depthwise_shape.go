package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// depthwiseShape is how the depthwise kernels are built and dispatched: the
// tuned variants of tune_depthwise.go are changes of the device's default,
// depthwiseDefaultShape.
type depthwiseShape struct {
	// local is the workgroup size (specialization constant 0).
	local int
	// rows is the height of an invocation's tile, a multiple of the stride
	// (specialization constant 1; its width is depthwiseTileCols).
	rows int
	// per is how many planes (images x channels) one forward or
	// backward-data invocation computes its tile position in.
	per int
	// byImage makes an invocation's planes one channel's in per
	// consecutive images (its filter read once) rather than per
	// consecutive planes.
	byImage bool
	// imageStores writes forward's and backward data's vec4 rows through
	// an RGBA32F storage texel view instead of the storage buffer.
	imageStores bool
	// scalarLoads reads every input element alone, never as a vec4 texel
	// (by default rows are read as vec4 texels where the width allows).
	scalarLoads bool
	// u64Stores makes backward data use its _u64 kernel where it fits
	// (depthwiseShape.u64): tiles of 8 columns, each row written as one
	// u64vec4 store of 8 floats.
	u64Stores bool
}

// depthwiseWideTileCols is the tile width of the _u64 backward data
// kernels (COLS there).
const depthwiseWideTileCols = 8

// depthwiseDefaultShape is the built-in shape on d, from the vendor's
// defaults (local size, planes per invocation). On a CPU driver: one
// subgroup per workgroup (a workgroup is one SIMD loop there), tiles of 8
// rows, and 16 planes per invocation, whose start-up (descriptor and
// address set-up) costs about as much as a tile. On GPUs (and on a CPU
// driver under GPUChoicesEnv): 64-wide workgroups (two 32-wide warps, one
// 64-wide wave), tiles of 4 rows and one plane per invocation, for
// parallelism and fewer registers per invocation. Backward data writes
// 8-float rows (u64Stores) on a CPU driver, where a store costs a loop over
// the lanes: half the loops (a tuned variant elsewhere).
func depthwiseDefaultShape(d *engine.Device) depthwiseShape {
	dd := defaultsOf(d) // the vendor's row (ops/vendor_defaults.go)
	rows := 4
	if dd.cpuShaped {
		rows = 8
	}
	return depthwiseShape{local: int(depthwiseLocalOf(d)), rows: rows, per: dd.depthwiseTiles, u64Stores: dd.cpuShaped}
}

// u64 reports whether c's backward data runs the _u64 kernel in shape sh:
// sh asks for it (and not for image stores), the device has shaderInt64,
// and dx's rows are whole groups of 8 floats.
func (sh depthwiseShape) u64(d *engine.Device, c depthwiseCall) bool {
	return sh.u64Stores && !sh.imageStores && d.Info.Int64 && c.g.w%depthwiseWideTileCols == 0
}

// backwardDataKernel is the shader-index name of c's backward data kernel
// in shape sh, and the width of its tiles.
func (sh depthwiseShape) backwardDataKernel(d *engine.Device, c depthwiseCall) (string, int) {
	name := depthwiseKernelName("backward_data", c.g.k, c.stride, nil)
	if sh.u64(d, c) {
		return name + "_u64", depthwiseWideTileCols
	}
	return name, depthwiseTileCols
}

// kernel returns the depthwise kernel name (of operation op: "forward",
// "backward_data", "backward_weight") built in shape sh, with the fused
// epilogue ep unless it is nil. vec4Rows and vec4Dy set VEC4_ROWS and
// VEC4_DY of shaders/depthwise.comp: the streamed rows (and backward
// weight's dy tiles) are read as vec4 texels.
func (sh depthwiseShape) kernel(s *engine.Sequence, name, op string, ep *Epilogue, vec4Rows, vec4Dy bool) *engine.Kernel {
	specs := []engine.Spec{{ID: 0, Value: uint32(sh.local)}, {ID: 1, Value: uint32(sh.rows)}, {ID: 2, Value: specBool(vec4Rows)}, {ID: 3, Value: specBool(vec4Dy)}}
	if op != "backward_weight" {
		specs = append(specs, engine.Spec{ID: 4, Value: specBool(sh.byImage)}, engine.Spec{ID: 5, Value: specBool(sh.imageStores)})
	}
	if ep != nil {
		return s.Kernel(name, withEpilogue(specs, ep)...)
	}
	return s.Kernel(name, specs...)
}

// groups is the number of plane groups of a forward or backward-data
// invocation.
func (sh depthwiseShape) groups(g depthwiseGeometry) int {
	if sh.byImage {
		return g.c * ceilDiv(g.n, sh.per)
	}
	return ceilDiv(g.n*g.c, sh.per)
}

// vec4 reports whether sh reads rows of a plane width wide as vec4 texels.
func (sh depthwiseShape) vec4(width int) bool { return !sh.scalarLoads && width%4 == 0 }

// vec4Loads reports whether sh reads some of c's rows as vec4 texels in
// operation op on d. Backward data reads dy rows as vec4 texels where its
// tiles' dy columns start on one: at stride 1, or with the 8-column tiles
// of the _u64 kernel.
func (sh depthwiseShape) vec4Loads(d *engine.Device, op string, c depthwiseCall) bool {
	if op == "backward_data" {
		return (c.stride == 1 || sh.u64(d, c)) && sh.vec4(c.g.ow)
	}
	return sh.vec4(c.g.w) || (op == "backward_weight" && sh.vec4(c.g.ow))
}

// specBool is a boolean specialization constant's value.
func specBool(b bool) uint32 {
	if b {
		return 1
	}
	return 0
}

// depthwiseKernelName is the shader-index name of a depthwise kernel.
func depthwiseKernelName(op string, k, stride int, ep *Epilogue) string {
	name := fmt.Sprintf("depthwise_%s_k%d_s%d", op, k, stride)
	if ep != nil {
		name += "_bn"
	}
	return name
}

// dispatchTiles records k over planes x tilesH x tilesW tiles: one
// invocation per tile position and group of sh.per planes (or images of a
// channel, byImage).
func (sh depthwiseShape) dispatchTiles(s *engine.Sequence, k *engine.Kernel, g depthwiseGeometry, planes, tilesH, tilesW int, args ...*engine.Tensor) {
	p := g.push(planes, tilesH, tilesW)
	span := tilesH * tilesW * sh.groups(g)
	p.Span, p.Per = uint32(span), uint32(sh.per)
	s.Dispatch1D(k, span, p, args...)
}

// recordForward records c's forward (with its epilogue when c.ep is set).
func (sh depthwiseShape) recordForward(s *engine.Sequence, c depthwiseCall) {
	g := c.g
	k := sh.kernel(s, depthwiseKernelName("forward", g.k, c.stride, c.ep), "forward", c.ep, sh.vec4(g.w), false)
	sh.dispatchTiles(s, k, g, g.n*g.c, ceilDiv(g.oh, sh.rows), ceilDiv(g.ow, depthwiseTileCols), epilogueArgs(c.ep, c.out, c.out, c.img, c.wt, c.img, c.out)...)
}

// recordBackwardData records c's input gradient (c.img is dx, c.out dy).
// The dy rows are read as vec4 texels where vec4Loads allows (at stride 2
// a 4-column tile's dy columns need not start on a texel).
func (sh depthwiseShape) recordBackwardData(s *engine.Sequence, c depthwiseCall) {
	g := c.g
	name, cols := sh.backwardDataKernel(s.Device(), c)
	k := sh.kernel(s, name, "backward_data", nil, sh.vec4Loads(s.Device(), "backward_data", c), false)
	sh.dispatchTiles(s, k, g, g.n*g.c, ceilDiv(g.h, sh.rows), ceilDiv(g.w, cols), c.img, c.img, c.out, c.wt, c.out, c.img)
}

// recordBackwardWeight records c's weight gradient (c.wt is dw, c.out dy):
// one workgroup per channel.
func (sh depthwiseShape) recordBackwardWeight(s *engine.Sequence, c depthwiseCall) {
	g := c.g
	k := sh.kernel(s, depthwiseKernelName("backward_weight", g.k, c.stride, nil), "backward_weight", nil, sh.vec4(g.w), sh.vec4(g.ow))
	if k == nil {
		return
	}
	grid, err := s.Device().FoldGroups(g.c)
	if err != nil {
		s.Fail(fmt.Errorf("depthwise backward weight: %d channels: %w", g.c, err))
		return
	}
	s.Dispatch(k, grid, g.push(g.n, ceilDiv(g.oh, sh.rows), ceilDiv(g.ow, depthwiseTileCols)), c.wt, c.img, c.out, c.img, c.out)
}
