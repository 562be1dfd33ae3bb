package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// linearBackwardCall is one fully connected backward pass (LinearBackward):
// dx [n,in] (or nil), dw [out,in], db [out] (or nil) from dy [n,out],
// x [n,in] and w [out,in].
type linearBackwardCall struct {
	n, in, out        int
	dx, dw, db, dy, x *engine.Tensor
	w                 *engine.Tensor
}

// linearBackwardVariants are the autotuned ways to record a linear
// backward: the row kernels of squeeze_excite.comp ("rows": one
// invocation per dx or dw element, for 4 batch or weight rows); the
// batch-tile kernels of linear_tile.comp with 4, 8 or 16 weight-gradient
// rows per workgroup ("tile_ot4" ..); the batch-tile data gradient with
// the outer-product weight gradient of linear_weight_outer.comp, 4, 20 or
// 80 chunks of 8 columns per invocation ("outer_ch4" ..); the
// one-dispatch backward of linear_columns.comp ("columns": lanes over the
// input features, one pass over the weight for dx and dw; "columns_wide":
// 8 columns per lane, one u64vec4 store per weight row); its split for
// GPUs in slices of 32 output rows ("split_o32": partial dx sums added by
// gemm_sum, see linear_columns_split.go).
var linearBackwardVariants = []variant[linearBackwardCall]{
	{name: "rows", kernels: linearBackwardRowsKernels, record: recordLinearBackwardRows},
	linearBackwardTileVariant(4),
	linearBackwardTileVariant(8),
	linearBackwardTileVariant(16),
	linearBackwardOuterVariant(linearWeightOuterChunks[0]),
	linearBackwardOuterVariant(linearWeightOuterChunks[1]),
	linearBackwardOuterVariant(linearWeightOuterChunks[2]),
	{
		name: linearBackwardColumns,
		kernels: func(d *engine.Device, c linearBackwardCall) []string {
			return []string{linearColumnsKernel(d, c.db != nil)}
		},
		eligible: linearColumnsFits,
		record: func(s *engine.Sequence, c linearBackwardCall) {
			recordLinearColumns(s, c, linearColumnsCPULocal, false)
		},
	},
	{
		name: linearBackwardColumnsWide,
		kernels: func(_ *engine.Device, c linearBackwardCall) []string {
			return []string{linearColumnsWideKernel(c.db != nil)}
		},
		eligible: linearColumnsWideFits,
		record: func(s *engine.Sequence, c linearBackwardCall) {
			recordLinearColumns(s, c, linearColumnsWideCPULocal, true)
		},
	},
	linearSplitVariant(linearSplitGPURows),
}

// linearBackwardOuterVariant records with the batch-tile data gradient and
// the outer-product weight gradient of linear_weight_outer.comp, chunks
// chunks of 8 columns per invocation ("outer_ch4" ..).
func linearBackwardOuterVariant(chunks int) variant[linearBackwardCall] {
	return variant[linearBackwardCall]{
		name: linearOuterVariantName(chunks),
		kernels: func(d *engine.Device, c linearBackwardCall) []string {
			ks := []string{linearWeightOuterKernel(d, c.db != nil)}
			if c.dx != nil {
				ks = append(ks, "linear_tile_backward_data")
			}
			return ks
		},
		eligible: func(d *engine.Device, c linearBackwardCall) bool {
			return linearWeightOuterFits(d, c.n, c.in, c.out)
		},
		record: func(s *engine.Sequence, c linearBackwardCall) { recordLinearWeightOuter(s, c, chunks) },
	}
}

// linearOuterVariantName names the outer-product variant with chunks
// chunks of 8 columns per invocation.
func linearOuterVariantName(chunks int) string { return fmt.Sprintf("outer_ch%d", chunks) }

// linearBackwardTileDefault is the batch-tile variant a CPU driver takes
// for a wide layer where the outer-product weight gradient does not fit.
// Narrow inputs keep the row kernels: with In/4 texels the tile's data
// gradient has In/32 workgroups (one for the squeeze-excite expand
// 32->768, measured 2.5x slower than "rows").
const linearBackwardTileDefault = "tile_ot8"

// linearBackwardTileMinIn is the narrowest input the CPU default gives the
// batch-tile kernels.
const linearBackwardTileMinIn = 512

// linearBackwardCPUDefault is a CPU driver's variant for a layer the
// batch-tile kernels take (wide inputs): where the outer-product weight
// gradient fits, the batch is one tile (a larger batch takes its slower
// path) and the output rows fill at least 4 workgroups of lanes (the
// classifier 1280->1000 at batch 8: its weight gradient took 1.6 against
// tile_ot8's 3.5 ms of CPU time on lavapipe, see linear_tile.comp's
// header; the squeeze-excite reduce 768->32, 32 rows, stays on tile_ot8:
// 0.20 against 0.16 ms), the one-dispatch "columns_wide" where dx is
// wanted and the device has shaderInt64 (the classifier's whole backward:
// see linear_columns.comp's header), "columns" where dx is wanted without
// it, else the outer product; else tile_ot8.
func linearBackwardCPUDefault(d *engine.Device, c linearBackwardCall) string {
	if linearWeightOuterFits(d, c.n, c.in, c.out) && c.n <= int(linearTileRows(d)) &&
		c.out >= 4*int(linearTileLocal(d, 64)) {
		if linearColumnsWideFits(d, c) {
			return linearBackwardColumnsWide
		}
		if linearColumnsFits(d, c) {
			return linearBackwardColumns
		}
		return linearOuterVariantName(linearWeightOuterDefaultChunks(d, c.in, c.out))
	}
	return linearBackwardTileDefault
}

// linearBackwardColumns names the one-dispatch variant (linear_columns.comp).
const linearBackwardColumns = "columns"

// linearBackwardColumnsWide names the one-dispatch variant whose lanes own
// 8 columns (the _u64x2 kernels of linear_columns.comp).
const linearBackwardColumnsWide = "columns_wide"

// linearColumnsWideCPULocal is the wide one-dispatch backward's workgroup
// size on a CPU driver: 8 invocations, 20 workgroups for the classifier's
// 1280 inputs (as many as "columns" in workgroups of 16).
const linearColumnsWideCPULocal = 8

// linearColumnsCPULocal is the one-dispatch backward's workgroup size on a
// CPU driver: 16 invocations (20 workgroups for the classifier's 1280
// inputs). Process CPU time on lavapipe against outer_ch80, medians of
// paired samples at load 10-14: 16 invocations 0.89-0.97x, 8 0.93-1.15x,
// 32 0.94-1.05x, 64 (5 workgroups for 2 threads) 1.0-1.5x.
const linearColumnsCPULocal = 16

func linearBackwardTileVariant(outRows int) variant[linearBackwardCall] {
	return variant[linearBackwardCall]{
		name: fmt.Sprintf("tile_ot%d", outRows),
		kernels: func(_ *engine.Device, c linearBackwardCall) []string {
			ks := []string{"linear_tile_backward_weight"}
			if c.db != nil {
				ks[0] = "linear_tile_backward_weight_bias"
			}
			if c.dx != nil {
				ks = append(ks, "linear_tile_backward_data")
			}
			return ks
		},
		eligible: func(d *engine.Device, c linearBackwardCall) bool {
			return linearTileFits(d, c.n, c.in, c.out, true) && (outRows == 4 || c.out >= outRows)
		},
		record: func(s *engine.Sequence, c linearBackwardCall) { recordLinearTileBackward(s, c, outRows) },
	}
}

// linearBackwardTuned is the autotuned linear backward (squeeze-excite
// FCs, the classifier).
var linearBackwardTuned = &tunedOp[linearBackwardCall]{
	op:       "linear_backward",
	variants: linearBackwardVariants,
	defaultVariant: func(d *engine.Device, c linearBackwardCall) string {
		if cpuShaped(d) && linearTileFits(d, c.n, c.in, c.out, true) && c.out >= 8 && c.in >= linearBackwardTileMinIn {
			return linearBackwardCPUDefault(d, c)
		}
		if !cpuShaped(d) && linearSplitGPUDefault(d, c) {
			return linearSplitVariantName(linearSplitGPURows)
		}
		return "rows"
	},
	shape: func(c linearBackwardCall) string {
		return fmt.Sprintf("n=%d in=%d out=%d dx=%v db=%v", c.n, c.in, c.out, c.dx != nil, c.db != nil)
	},
	scratch: func(d *engine.Device, c linearBackwardCall) (linearBackwardCall, func(), error) {
		ts, free, err := scratchTensors(d, c.dx, c.dw, c.db, c.dy, c.x, c.w)
		if err != nil {
			return c, nil, err
		}
		c.dx, c.dw, c.db, c.dy, c.x, c.w = ts[0], ts[1], ts[2], ts[3], ts[4], ts[5]
		return c, free, nil
	},
}

func init() { tunedOps = append(tunedOps, linearBackwardTuned) }

func linearBackwardRowsKernels(_ *engine.Device, c linearBackwardCall) []string {
	suffix := ""
	if c.in%4 == 0 {
		suffix = "_vec4"
	}
	ks := []string{"linear_backward_weight" + suffix}
	if c.dx != nil {
		ks = append(ks, "linear_backward_data"+suffix)
	}
	if c.db != nil {
		ks = append(ks, "linear_backward_bias")
	}
	return ks
}

// recordLinearBackwardRows dispatches the row kernels of
// squeeze_excite.comp for c.
func recordLinearBackwardRows(s *engine.Sequence, c linearBackwardCall) {
	n, in, out := c.n, c.in, c.out
	push := shaders.LinearBackwardWeightPush{N: uint32(n), InFeatures: uint32(in), OutFeatures: uint32(out)}
	if c.dx != nil {
		if in%4 == 0 {
			s.Dispatch1D(s.Kernel("linear_backward_data_vec4", seLocal), ceilDiv(n, linearRowTile)*in/4, shaders.LinearBackwardDataVec4Push(push), c.dx, c.dy, c.w)
		} else {
			s.Dispatch1D(s.Kernel("linear_backward_data", seLocal), ceilDiv(n, linearRowTile)*in, shaders.LinearBackwardDataPush(push), c.dx, c.dy, c.w)
		}
	}
	if in%4 == 0 {
		s.Dispatch1D(s.Kernel("linear_backward_weight_vec4", seLocal), ceilDiv(out, linearRowTile)*in/4, shaders.LinearBackwardWeightVec4Push(push), c.dw, c.dy, c.x)
	} else {
		s.Dispatch1D(s.Kernel("linear_backward_weight", seLocal), ceilDiv(out, linearRowTile)*in, push, c.dw, c.dy, c.x)
	}
	if c.db != nil {
		recordLinearBackwardBias(s, c)
	}
}

// recordLinearBackwardBias dispatches linear_backward_bias: db = sum_n dy.
func recordLinearBackwardBias(s *engine.Sequence, c linearBackwardCall) {
	s.Dispatch1D(s.Kernel("linear_backward_bias", seLocal), c.out, shaders.LinearBackwardBiasPush{N: uint32(c.n), OutFeatures: uint32(c.out)}, c.db, c.dy)
}
