package ops

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// The batch-tile linear kernels (shaders/linear_tile.comp): every
// invocation uses what it fetches for a tile of up to 8 batch rows, whose
// x (or dy) texels a cluster of lanes fetches once and shares through
// subgroupShuffle. On lavapipe, where a fetch is a gather costing about a
// cycle per float, they ran the classifier 1280->1000 at batch 8 2.4x
// (forward) and 1.4x (backward) faster than the row kernels of
// squeeze_excite.comp (numbers in the shader's header).

// linearTileMaxRows is the largest batch tile (R in the shader): 8 rows,
// whose sums stay in registers.
const linearTileMaxRows = 8

// linearTileRows is the batch tile on d: linearTileMaxRows, or the
// subgroup width when narrower (a cluster lives in one subgroup). The
// SPIR-V targets Vulkan 1.1: a pipeline that requires nothing runs at the
// reported SubgroupSize.
func linearTileRows(d *engine.Device) uint32 {
	rows := uint32(1)
	for rows*2 <= linearTileMaxRows && rows*2 <= d.Info.SubgroupSize {
		rows *= 2
	}
	return rows
}

// linearTileLocal is the kernels' workgroup size on d: cpu invocations on
// a CPU driver (8, one SIMD loop, where few columns leave few workgroups;
// 64 where thousands of workgroups would each cost their start), 64 on
// GPUs, and never less than a subgroup, within the device's limit.
func linearTileLocal(d *engine.Device, cpu uint32) uint32 {
	local := cpu
	if !cpuShaped(d) {
		local = 64
	}
	local = max(local, d.Info.SubgroupSize)
	return min(local, max(d.Info.MaxWorkgroupInvocation, 1))
}

// linearTileFits reports whether the batch-tile kernels can record a
// linear layer with n rows, in input and out output features on d: whole
// texels along In (and, for the backward pass, along Out), and grids
// within the device's limits (for tiles of 4 or more output rows). (The engine requires subgroup shuffles of every device.)
func linearTileFits(d *engine.Device, n, in, out int, backward bool) bool {
	if in%4 != 0 || (backward && out%4 != 0) {
		return false
	}
	limit := d.Info.MaxWorkgroupCount
	return ceilDiv(n, int(linearTileRows(d))) <= int(limit[1]) && ceilDiv(out, 4) <= int(limit[0]) &&
		ceilDiv(out, 4) <= int(limit[1]) && ceilDiv(in/4, 8) <= int(limit[0])
}

// recordLinearTileForward dispatches linear_tile_forward(_bias) for c with
// cols output columns per invocation.
func recordLinearTileForward(s *engine.Sequence, c linearCall, cols int) {
	d := s.Device()
	rows, local := linearTileRows(d), linearTileLocal(d, 8)
	specs := []engine.Spec{{ID: 0, Value: local}, {ID: 1, Value: rows}, {ID: 2, Value: uint32(cols)}}
	grid := engine.Grid{X: ceilDiv(c.out, int(local)*cols), Y: ceilDiv(c.n, int(rows)), Z: 1}
	push := shaders.LinearTileForwardPush{N: uint32(c.n), InFeatures: uint32(c.in), OutFeatures: uint32(c.out)}
	if c.b == nil {
		s.Dispatch(s.Kernel("linear_tile_forward", specs...), grid, push, c.y, c.x, c.w)
		return
	}
	s.Dispatch(s.Kernel("linear_tile_forward_bias", specs...), grid, shaders.LinearTileForwardBiasPush(push), c.y, c.x, c.w, c.b)
}

// recordLinearTileBackward dispatches linear_tile_backward_data (when dx
// is wanted) and linear_tile_backward_weight with outRows output rows per
// workgroup (a multiple of 4), or linear_tile_backward_weight_bias when db
// is wanted (the bias gradient from the dy values it reads anyway, the same
// bits as linear_backward_bias, one dispatch fewer).
func recordLinearTileBackward(s *engine.Sequence, c linearBackwardCall, outRows int) {
	if c.dx != nil {
		recordLinearTileBackwardData(s, c)
	}
	d := s.Device()
	rows, texels := linearTileRows(d), c.in/4
	push := shaders.LinearTileBackwardWeightPush{N: uint32(c.n), InFeatures: uint32(c.in), OutFeatures: uint32(c.out)}
	// The weight gradient: in/4 x out/outRows invocations (40 x 125 x 8
	// for the classifier), in workgroups of 64 on a CPU driver too.
	local := linearTileLocal(d, 64)
	specs := []engine.Spec{{ID: 0, Value: local}, {ID: 1, Value: rows}, {ID: 2, Value: uint32(outRows)}}
	grid := engine.Grid{X: ceilDiv(texels, int(local)), Y: ceilDiv(c.out, outRows), Z: 1}
	if c.db == nil {
		s.Dispatch(s.Kernel("linear_tile_backward_weight", specs...), grid, push, c.dw, c.dy, c.x)
		return
	}
	s.Dispatch(s.Kernel("linear_tile_backward_weight_bias", specs...), grid, shaders.LinearTileBackwardWeightBiasPush(push), c.dw, c.dy, c.x, c.db)
}

// recordLinearTileBackwardData dispatches linear_tile_backward_data for c
// (dx = dy w): one invocation per texel of the In features and tile of
// batch rows.
func recordLinearTileBackwardData(s *engine.Sequence, c linearBackwardCall) {
	d := s.Device()
	rows, local := linearTileRows(d), linearTileLocal(d, 8)
	push := shaders.LinearTileBackwardDataPush{N: uint32(c.n), InFeatures: uint32(c.in), OutFeatures: uint32(c.out)}
	k := s.Kernel("linear_tile_backward_data", engine.Spec{ID: 0, Value: local}, engine.Spec{ID: 1, Value: rows})
	grid := engine.Grid{X: ceilDiv(c.in/4, int(local)), Y: ceilDiv(c.n, int(rows)), Z: 1}
	s.Dispatch(k, grid, push, c.dx, c.dy, c.w)
}
