package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// linearCall is one fully connected forward y = x w^T (+ b): x [n,in],
// w [out,in], b [out] or nil.
type linearCall struct {
	n, in, out int
	y, x, w, b *engine.Tensor
	lanes      uint32 // invocations per output column; 0: rowLanes' choice
}

// linearForwardVariants are the autotuned ways to record a linear
// forward: today's lanes per column ("auto", rowLanes) and other powers of
// two that fit a subgroup; the batch-tile kernel of linear_tile.comp with
// 1, 2 or 4 output columns per invocation ("tile_oc2" ..: the default on a
// CPU driver where it fits); then the GEMM family's (GPU-shaped devices
// only, see gemmEligible): "gemm64" (64x64x16/8x8), "gemm16x64" (flat
// 16x64x32/4x4, for a batch of a few rows) and its split-K version
// "gemm16x64_splitk" (gemmAutoSplit over the In features).
var linearForwardVariants = []variant[linearCall]{
	{name: "auto", kernels: linearForwardKernels, record: recordLinearForward},
	{name: "lanes1", kernels: linearForwardKernels, eligible: linearLanesFit(1), record: linearWithLanes(1)},
	{name: "lanes2", kernels: linearForwardKernels, eligible: linearLanesFit(2), record: linearWithLanes(2)},
	{name: "lanes4", kernels: linearForwardKernels, eligible: linearLanesFit(4), record: linearWithLanes(4)},
	{name: "lanes8", kernels: linearForwardKernels, eligible: linearLanesFit(8), record: linearWithLanes(8)},
	linearTileForwardVariant(1),
	linearTileForwardVariant(2),
	linearTileForwardVariant(4),
	linearGEMMVariant("gemm64", gemmTile64, false),
	linearGEMMVariant("gemm16x64", gemmTileFlat, false),
	linearGEMMVariant("gemm16x64_splitk", gemmTileFlat, true),
}

// linearGEMMVariant is the variant name recording with LinearForwardGEMM
// and tile, split (gemmAutoSplit over the In features) when split says;
// a split variant is eligible only when the reduction splits into at least
// two pieces.
func linearGEMMVariant(name string, tile GEMMTile, split bool) variant[linearCall] {
	tileFor := func(c linearCall) GEMMTile {
		if split {
			return gemmAutoSplit(tile, c.n, c.out, c.in)
		}
		return tile
	}
	return variant[linearCall]{
		name:    name,
		kernels: func(_ *engine.Device, c linearCall) []string { return gemmKernels(tileFor(c), c.b != nil) },
		eligible: func(d *engine.Device, c linearCall) bool {
			t := tileFor(c)
			return (!split || t.splits() > 1) && gemmEligible(d, t, c.n, c.out, c.in)
		},
		record: func(s *engine.Sequence, c linearCall) {
			t := tileFor(c)
			LinearForwardGEMM(s, c.y, c.x, c.w, c.b, t, gemmScratch(s, t, c.y.Len()))
		},
	}
}

// linearForwardTuned is the autotuned linear forward (squeeze-excite FCs,
// the classifier).
var linearForwardTuned = &tunedOp[linearCall]{
	op:       "linear_forward",
	variants: linearForwardVariants,
	defaultVariant: func(d *engine.Device, c linearCall) string {
		if cpuShaped(d) && linearTileFits(d, c.n, c.in, c.out, false) {
			return fmt.Sprintf("tile_oc%d", linearTileForwardCols(c.out))
		}
		return "auto"
	},
	shape: func(c linearCall) string {
		return fmt.Sprintf("n=%d in=%d out=%d bias=%v", c.n, c.in, c.out, c.b != nil)
	},
	scratch: func(d *engine.Device, c linearCall) (linearCall, func(), error) {
		ts, free, err := scratchTensors(d, c.y, c.x, c.w, c.b)
		if err != nil {
			return c, nil, err
		}
		c.y, c.x, c.w, c.b = ts[0], ts[1], ts[2], ts[3]
		return c, free, nil
	},
}

func linearForwardKernels(*engine.Device, linearCall) []string {
	return []string{"linear_forward", "linear_forward_bias"}
}

// linearLanesFit: lanes invocations per column is a variant when it
// differs from rowLanes' choice, fits in a subgroup (and the 64-wide
// workgroup; the vendor's rowLanesMax, as in rowLanes) and leaves each lane a texel.
func linearLanesFit(lanes uint32) func(*engine.Device, linearCall) bool {
	return func(d *engine.Device, c linearCall) bool {
		limit := min(d.Info.SubgroupSize, defaultsOf(d).rowLanesMax)
		return lanes <= limit && int(lanes) <= ceilDiv(c.in, 4) && lanes != rowLanes(d, ceilDiv(c.in, 4))
	}
}

func linearWithLanes(lanes uint32) func(*engine.Sequence, linearCall) {
	return func(s *engine.Sequence, c linearCall) {
		c.lanes = lanes
		recordLinearForward(s, c)
	}
}

// recordLinearForward dispatches linear_forward(_bias) for c.
func recordLinearForward(s *engine.Sequence, c linearCall) {
	aligned := uint32(0)
	if c.in%4 == 0 {
		aligned = 1
	}
	lanes := c.lanes
	if lanes == 0 {
		lanes = rowLanes(s.Device(), ceilDiv(c.in, 4))
	}
	specs := []engine.Spec{seLocal, {ID: 1, Value: lanes}, {ID: 2, Value: aligned}}
	push := shaders.LinearForwardPush{N: uint32(c.n), InFeatures: uint32(c.in), OutFeatures: uint32(c.out)}
	groups := ceilDiv(c.n, linearRowTile) * c.out * int(lanes)
	if c.b == nil {
		s.Dispatch1D(s.Kernel("linear_forward", specs...), groups, push, c.y, c.x, c.w)
		return
	}
	s.Dispatch1D(s.Kernel("linear_forward_bias", specs...), groups, shaders.LinearForwardBiasPush(push), c.y, c.x, c.w, c.b)
}

// linearTileForwardCols is the batch-tile forward's output columns per
// invocation a CPU driver takes for out output features: 4 for the
// classifier (1000: 32 workgroups of 8; tile_oc4 measured 0.91 ms against
// tile_oc2's 1.0 on lavapipe), fewer where that would leave fewer than
// about 8 workgroups to share among the driver's threads.
func linearTileForwardCols(out int) int {
	switch {
	case out >= 512:
		return 4
	case out >= 64:
		return 2
	}
	return 1
}

// linearTileForwardVariant records with linear_tile_forward(_bias) and
// cols output columns per invocation.
func linearTileForwardVariant(cols int) variant[linearCall] {
	return variant[linearCall]{
		name: fmt.Sprintf("tile_oc%d", cols),
		kernels: func(_ *engine.Device, c linearCall) []string {
			if c.b != nil {
				return []string{"linear_tile_forward_bias"}
			}
			return []string{"linear_tile_forward"}
		},
		eligible: func(d *engine.Device, c linearCall) bool {
			return linearTileFits(d, c.n, c.in, c.out, false) && (cols == 1 || c.out >= cols)
		},
		record: func(s *engine.Sequence, c linearCall) { recordLinearTileForward(s, c, cols) },
	}
}
