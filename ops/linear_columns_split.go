package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// The split one-pass linear backward, for GPUs (the _split kernels of
// shaders/linear_columns.comp): the walk of "columns" over the weight's
// rows cut into slices of output rows, one slice per row of workgroups, so
// that a wide layer fills a GPU (the classifier's 320 input texels times
// 32 slices of 32 rows: 10240 invocations, against 320 in one pass). Each
// slice writes its rows of dw and its own partial dx sums; gemm_sum then
// adds the partials in slice order:
//
//	partial[s,r,i] = sum_{o in slice s} dy[r,o] * w[o,i]
//	dx[r,i]        = partial[0,r,i] + partial[1,r,i] + ..
//	dw[o,i]        = sum_r dy[r,o] * x[r,i]   (each element written once)
//
// Fixed orders everywhere: the same bits every run; dw and db are those of
// "columns", dx differs from its single chain only by float32 rounding.

// linearSplitGPURows is the output rows per slice on a GPU: 32 (8 texels
// of dy), 32 slices for the classifier's 1000 outputs.
const linearSplitGPURows = 32

// linearSplitGPUMinSlices is the fewest slices for which a GPU takes the
// split by default: narrower layers (the squeeze-excite reduce, 32
// outputs) keep the row kernels, whose one invocation per element fills a
// GPU better than a few slices of In/4 lanes.
const linearSplitGPUMinSlices = 8

// linearSplitSlices is the number of slices of rows output rows (a
// multiple of 4) that cover out outputs.
func linearSplitSlices(out, rows int) int { return ceilDiv(out, rows) }

// linearSplitKernel is the split kernel for the bias flag on d: the _u64
// kernels where the device has shaderInt64.
func linearSplitKernel(d *engine.Device, bias bool) string {
	return linearStoreKernel(d, "linear_columns_split", bias)
}

// linearSplitFits reports whether the split backward can record c on d in
// slices of rows output rows: where "columns" fits (its lanes along In are
// the split's), with the slices within the device's grid limit.
func linearSplitFits(d *engine.Device, c linearBackwardCall, rows int) bool {
	return linearColumnsFits(d, c) && linearSplitSlices(c.out, rows) <= int(d.Info.MaxWorkgroupCount[1])
}

// linearSplitVariant is the autotuned split backward in slices of rows
// output rows ("split_o32" ..).
func linearSplitVariant(rows int) variant[linearBackwardCall] {
	return variant[linearBackwardCall]{
		name: linearSplitVariantName(rows),
		kernels: func(d *engine.Device, c linearBackwardCall) []string {
			return []string{linearSplitKernel(d, c.db != nil), "gemm_sum"}
		},
		eligible: func(d *engine.Device, c linearBackwardCall) bool { return linearSplitFits(d, c, rows) },
		record:   func(s *engine.Sequence, c linearBackwardCall) { recordLinearSplit(s, c, rows) },
	}
}

// linearSplitVariantName names the split variant with rows output rows
// per slice.
func linearSplitVariantName(rows int) string { return fmt.Sprintf("split_o%d", rows) }

// linearSplitGPUDefault reports whether a GPU takes the split backward
// (slices of linearSplitGPURows rows) for c by default: where it fits, the
// input is wide and the outputs make at least linearSplitGPUMinSlices
// slices (the classifier).
func linearSplitGPUDefault(d *engine.Device, c linearBackwardCall) bool {
	return c.in >= linearBackwardTileMinIn && linearSplitSlices(c.out, linearSplitGPURows) >= linearSplitGPUMinSlices &&
		linearSplitFits(d, c, linearSplitGPURows)
}

// recordLinearSplit dispatches linear_columns_split(_u64)(_bias) over the
// In/4 texels by the slices of rows output rows into a scratch tensor of
// partial dx sums [slices, n, In], then gemm_sum, which adds them into dx
// in slice order.
func recordLinearSplit(s *engine.Sequence, c linearBackwardCall, rows int) {
	d := s.Device()
	slices := linearSplitSlices(c.out, rows)
	partial := s.Scratch("linear backward: partial dx sums per slice of output rows", engine.Float32, slices, c.n, c.in)
	if partial == nil {
		return
	}
	local := linearTileLocal(d, linearColumnsCPULocal)
	specs := []engine.Spec{{ID: 0, Value: local}, {ID: 1, Value: linearTileRows(d)}}
	grid := engine.Grid{X: ceilDiv(c.in/4, int(local)), Y: slices, Z: 1}
	push := shaders.LinearColumnsSplitPush{N: uint32(c.n), InFeatures: uint32(c.in), OutFeatures: uint32(c.out),
		SliceSteps: uint32(rows / 4)}
	k := s.Kernel(linearSplitKernel(d, c.db != nil), specs...)
	if c.db == nil {
		s.Dispatch(k, grid, push, partial, c.dw, c.dy, c.x, c.w)
	} else {
		s.Dispatch(k, grid, push, partial, c.dw, c.dy, c.x, c.w, c.db)
	}
	// dx (n x In) = sum over the slices of partial, in slice order.
	sum := shaders.GemmSumPush{M: uint32(c.n), N: uint32(c.in), Jdiv: uint32(c.in), Cm: uint32(c.in), Cjr: 1,
		Splits: uint32(slices)}
	s.Dispatch1D(s.Kernel("gemm_sum", engine.Spec{ID: 0, Value: seLocalSize}), c.n*c.in, sum, c.dx, partial)
}
