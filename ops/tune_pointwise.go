package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// pointwiseCall is one recorded pointwise GEMM: out = a * b (or a * b^T).
type pointwiseCall struct {
	g         pointwiseGemm
	out, a, b *engine.Tensor
}

// pointwiseVariants are the autotuned ways to record a pointwise GEMM:
// today's choice ("auto": vec4 output when aligned, rowTiles' row tiles,
// pointwiseChunk's reduction chunk), scalar output, fixed row tiles per
// workgroup, fixed reduction chunks ("kc4", "kc8", "kc32"), A fetched once
// per chunk for both passes ("a_once", unless auto does already: see
// pointwiseAOnceByDefault) and one pass of 8 rows ("rh8").
var pointwiseVariants = []variant[pointwiseCall]{
	{name: "auto", kernels: pointwiseKernels, record: recordPointwise},
	{name: "out_scalar", kernels: pointwiseKernels, eligible: func(_ *engine.Device, c pointwiseCall) bool { return c.g.outVec4 }, record: func(s *engine.Sequence, c pointwiseCall) { c.g.outVec4 = false; recordPointwise(s, c) }},
	{name: "rt1", kernels: pointwiseKernels, eligible: pointwiseRowTilesFit(1), record: pointwiseWithRowTiles(1)},
	{name: "rt2", kernels: pointwiseKernels, eligible: pointwiseRowTilesFit(2), record: pointwiseWithRowTiles(2)},
	{name: "rt4", kernels: pointwiseKernels, eligible: pointwiseRowTilesFit(4), record: pointwiseWithRowTiles(4)},
	{name: "kc4", kernels: pointwiseKernels, eligible: pointwiseChunkFits(4), record: pointwiseWithChunk(4)},
	{name: "kc8", kernels: pointwiseKernels, eligible: pointwiseChunkFits(8), record: pointwiseWithChunk(8)},
	{name: "kc32", kernels: pointwiseKernels, eligible: pointwiseChunkFits(32), record: pointwiseWithChunk(32)},
	{name: "a_once", kernels: pointwiseKernels, eligible: func(d *engine.Device, c pointwiseCall) bool { return !pointwiseAOnceByDefault(d, c.g) }, record: func(s *engine.Sequence, c pointwiseCall) { c.g.aOnce = true; recordPointwise(s, c) }},
	{name: "rh8", kernels: pointwiseKernels, record: func(s *engine.Sequence, c pointwiseCall) { c.g.rh = 8; recordPointwise(s, c) }},
}

// The three pointwise operations share the variants of the pointwise
// kernels and add their own GEMM-family ones (pointwiseGEMMVariants).
var (
	pointwiseForwardTuned        = newPointwiseTuned("pointwise_forward", pointwiseGEMMVariants(pointwiseForwardGEMM, false))
	pointwiseBackwardDataTuned   = newPointwiseTuned("pointwise_backward_data", pointwiseGEMMVariants(pointwiseBackwardDataGEMM, false))
	pointwiseBackwardWeightTuned = newPointwiseTuned("pointwise_backward_weight", pointwiseGEMMVariants(pointwiseBackwardWeightGEMM, true))
)

func newPointwiseTuned(op string, more []variant[pointwiseCall]) *tunedOp[pointwiseCall] {
	return &tunedOp[pointwiseCall]{
		op:             op,
		variants:       append(pointwiseVariants[:len(pointwiseVariants):len(pointwiseVariants)], more...),
		defaultVariant: func(*engine.Device, pointwiseCall) string { return "auto" },
		shape: func(c pointwiseCall) string {
			return fmt.Sprintf("m=%d n=%d k=%d hw=%d a=%d b=%d v4=%v%s%s", c.g.m, c.g.ncol, c.g.k, c.g.hw, c.g.aMode, c.g.bMode, c.g.outVec4, epilogueVariant(c.g.epilogue), addendVariant(c.g.addend))
		},
		scratch: func(d *engine.Device, c pointwiseCall) (pointwiseCall, func(), error) {
			ts, ep, free, err := scratchWithEpilogue(d, c.g.epilogue, c.out, c.a, c.b)
			if err != nil {
				return c, nil, err
			}
			c.out, c.a, c.b, c.g.epilogue = ts[0], ts[1], ts[2], ep
			c.g.addend, free, err = scratchAddend(d, c.g.addend, free)
			return c, free, err
		},
	}
}

func pointwiseKernels(d *engine.Device, c pointwiseCall) []string {
	scalar := c.g
	scalar.outVec4 = false
	if scalar == c.g {
		return []string{c.g.kernelName(d)}
	}
	return []string{c.g.kernelName(d), scalar.kernelName(d)}
}

func recordPointwise(s *engine.Sequence, c pointwiseCall) {
	c.g.record(s, "pointwise", c.out, c.a, c.b)
}

// pointwiseRowTilesFit: rt row tiles per workgroup is a variant when it
// differs from rowTiles' choice and the GEMM has at least rt tiles of rows.
func pointwiseRowTilesFit(rt int) func(*engine.Device, pointwiseCall) bool {
	return func(_ *engine.Device, c pointwiseCall) bool {
		tiles := ceilDiv(c.g.m, pointwiseTileRows)
		return tiles >= rt && rowTiles(tiles) != rt
	}
}

func pointwiseWithRowTiles(rt int) func(*engine.Sequence, pointwiseCall) {
	return func(s *engine.Sequence, c pointwiseCall) {
		c.g.rt = rt
		recordPointwise(s, c)
	}
}

// pointwiseChunkFits: a reduction chunk of kc steps is a variant when it
// differs from pointwiseChunk's choice on d and does not exceed the
// reduction (rounded up to whole texels).
func pointwiseChunkFits(kc int) func(*engine.Device, pointwiseCall) bool {
	return func(d *engine.Device, c pointwiseCall) bool {
		return kc <= ceilDiv(c.g.k, 4)*4 && pointwiseChunk(d, c.g.k) != kc
	}
}

// pointwiseWithChunk records the GEMM with a reduction chunk of kc steps.
func pointwiseWithChunk(kc int) func(*engine.Sequence, pointwiseCall) {
	return func(s *engine.Sequence, c pointwiseCall) {
		c.g.kc = kc
		recordPointwise(s, c)
	}
}
