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

// recordLinearColumns dispatches linear_columns_backward(_u64)(_bias) for
// c: one invocation per texel of the In features, in workgroups of
// cpuLocal invocations on a CPU driver (see linearTileLocal).
func recordLinearColumns(s *engine.Sequence, c linearBackwardCall, cpuLocal uint32) {
	d := s.Device()
	local := linearTileLocal(d, cpuLocal)
	specs := []engine.Spec{{ID: 0, Value: local}, {ID: 1, Value: linearTileRows(d)}}
	grid := engine.Grid{X: ceilDiv(c.in/4, int(local)), Y: 1, Z: 1}
	push := shaders.LinearColumnsBackwardPush{N: uint32(c.n), InFeatures: uint32(c.in), OutFeatures: uint32(c.out)}
	k := s.Kernel(linearColumnsKernel(d, c.db != nil), specs...)
	if c.db == nil {
		s.Dispatch(k, grid, push, c.dx, c.dw, c.dy, c.x, c.w)
		return
	}
	s.Dispatch(k, grid, push, c.dx, c.dw, c.dy, c.x, c.w, c.db)
}
