package ops

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// The one-dispatch linear backward (shaders/linear_columns.comp): lanes
// span the input features, each holding x of the batch and its dx sums in
// registers while it walks the weight's rows once, adding each row into dx
// and writing that row of dw (and, in the _bias kernels, db). Same bits as
// the batch-tile data gradient with the outer-product weight gradient.

// linearColumnsKernel is the kernel for the bias flag on d: the _u64
// kernels where the device has shaderInt64.
func linearColumnsKernel(d *engine.Device, bias bool) string {
	return linearStoreKernel(d, "linear_columns_backward", bias)
}

// linearColumnsFits reports whether the one-dispatch backward can record a
// linear backward with n rows, in and out features on d: dx wanted, a
// batch of one tile (x and dx live in registers), whole texels along In
// and Out, and a grid within the device's limit.
func linearColumnsFits(d *engine.Device, c linearBackwardCall) bool {
	return c.dx != nil && c.n <= int(linearTileRows(d)) && c.in%4 == 0 && c.out%4 == 0 &&
		ceilDiv(c.in/4, int(linearTileLocal(d, 8))) <= int(d.Info.MaxWorkgroupCount[0])
}

// linearColumnsWideKernel is the kernel of the wide one-dispatch backward
// (lanes own 2 texels, 8 columns, written by one 64-bit u64vec4 store per
// weight row) for the bias flag: it needs shaderInt64.
func linearColumnsWideKernel(bias bool) string {
	if bias {
		return "linear_columns_backward_u64x2_bias"
	}
	return "linear_columns_backward_u64x2"
}

// linearColumnsWideFits reports whether the wide one-dispatch backward can
// record c on d: where "columns" fits, the device has shaderInt64 and In
// is whole pairs of texels (a multiple of 8).
func linearColumnsWideFits(d *engine.Device, c linearBackwardCall) bool {
	return linearColumnsFits(d, c) && d.Info.Int64 && c.in%8 == 0
}

// recordLinearColumns dispatches linear_columns_backward(_u64)(_bias) for
// c, or with wide the _u64x2 kernels: one invocation per texel (wide: per
// pair of texels) of the In features, in workgroups of cpuLocal
// invocations on a CPU driver (see linearTileLocal).
func recordLinearColumns(s *engine.Sequence, c linearBackwardCall, cpuLocal uint32, wide bool) {
	d := s.Device()
	local := linearTileLocal(d, cpuLocal)
	specs := []engine.Spec{{ID: 0, Value: local}, {ID: 1, Value: linearTileRows(d)}}
	texels, name := 1, linearColumnsKernel(d, c.db != nil)
	if wide {
		texels, name = 2, linearColumnsWideKernel(c.db != nil)
	}
	grid := engine.Grid{X: ceilDiv(c.in/(4*texels), int(local)), Y: 1, Z: 1}
	push := shaders.LinearColumnsBackwardPush{N: uint32(c.n), InFeatures: uint32(c.in), OutFeatures: uint32(c.out)}
	k := s.Kernel(name, specs...)
	if c.db == nil {
		s.Dispatch(k, grid, push, c.dx, c.dw, c.dy, c.x, c.w)
		return
	}
	s.Dispatch(k, grid, push, c.dx, c.dw, c.dy, c.x, c.w, c.db)
}
