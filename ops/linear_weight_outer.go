package ops

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// The outer-product weight gradient (shaders/linear_weight_outer.comp):
// dw = dy^T x with lanes spanning output rows, each holding dy of its row
// for a tile of batch rows in registers and writing 8 consecutive elements
// of dw at once (a u64vec4 store where the device has shaderInt64: on a
// SIMD driver a store is a loop over the lanes, and this one stores 8
// floats per lane and iteration). The _bias kernels also write the bias
// gradient.

// linearWeightOuterKernel is the kernel for the bias flag on d: the _u64
// kernels where the device has shaderInt64.
func linearWeightOuterKernel(d *engine.Device, bias bool) string {
	return linearStoreKernel(d, "linear_weight_outer", bias)
}

// linearStoreKernel is base's kernel for the bias flag on d: base_u64
// (8 floats per 64-bit store) where the device has shaderInt64, then
// _bias where the kernel also writes the bias gradient.
func linearStoreKernel(d *engine.Device, base string, bias bool) string {
	if d.Info.Int64 {
		base += "_u64"
	}
	if bias {
		base += "_bias"
	}
	return base
}

// linearWeightOuterFits reports whether the outer-product weight gradient
// can record a linear backward with n rows, in and out features on d:
// whole chunks of 8 along In, whole dy texels along Out, and a grid
// within the device's limits for the fewest chunks per invocation.
func linearWeightOuterFits(d *engine.Device, n, in, out int) bool {
	limit := d.Info.MaxWorkgroupCount
	return in%8 == 0 && linearTileFits(d, n, in, out, true) &&
		ceilDiv(in/8, linearWeightOuterChunks[0]) <= int(limit[1])
}

// linearWeightOuterChunks are the tuned chunks of 8 columns per
// invocation, fewest first.
var linearWeightOuterChunks = [3]int{4, 20, 80}

// linearWeightOuterMinGroups is the fewest workgroups the default chunks
// leave on a CPU driver (a few per thread; fewer, larger workgroups were
// faster on lavapipe: for the classifier, 640 workgroups (outer_ch4) took
// 3.6 ms of CPU time, 32 (outer_ch80) 1.6 ms).
const linearWeightOuterMinGroups = 16

// linearWeightOuterDefaultChunks is the chunks per invocation a CPU driver
// takes for in and out features: the most that leave
// linearWeightOuterMinGroups workgroups, else the fewest (80 for the
// classifier 1280->1000: 16 x 2 workgroups).
func linearWeightOuterDefaultChunks(d *engine.Device, in, out int) int {
	rowGroups := ceilDiv(out, int(linearTileLocal(d, 64)))
	for i := len(linearWeightOuterChunks) - 1; i > 0; i-- {
		if rowGroups*ceilDiv(in/8, linearWeightOuterChunks[i]) >= linearWeightOuterMinGroups {
			return linearWeightOuterChunks[i]
		}
	}
	return linearWeightOuterChunks[0]
}

// recordLinearWeightOuter dispatches the batch-tile data gradient (when dx
// is wanted) and the outer-product weight gradient (with the bias gradient
// when db is wanted) for c, chunks chunks of 8 columns per invocation.
func recordLinearWeightOuter(s *engine.Sequence, c linearBackwardCall, chunks int) {
	if c.dx != nil {
		recordLinearTileBackwardData(s, c)
	}
	d := s.Device()
	local := linearTileLocal(d, 64)
	specs := []engine.Spec{{ID: 0, Value: local}, {ID: 1, Value: linearTileRows(d)}, {ID: 2, Value: uint32(chunks)}}
	grid := engine.Grid{X: ceilDiv(c.out, int(local)), Y: ceilDiv(c.in/8, chunks), Z: 1}
	push := shaders.LinearWeightOuterPush{N: uint32(c.n), InFeatures: uint32(c.in), OutFeatures: uint32(c.out)}
	k := s.Kernel(linearWeightOuterKernel(d, c.db != nil), specs...)
	if c.db == nil {
		s.Dispatch(k, grid, push, c.dw, c.dy, c.x)
		return
	}
	s.Dispatch(k, grid, push, c.dw, c.dy, c.x, c.db)
}
