package ops

import (
	"github.com/effv2vk/effv2vk/engine"
)

// pointwiseGEMMRecord records a pointwise call with the GEMM family's tile
// and split partial sums (nil without a split).
type pointwiseGEMMRecord func(s *engine.Sequence, c pointwiseCall, tile GEMMTile, scratch *engine.Tensor)

// The GEMM-family recordings of the three pointwise operations (the call's
// a and b as PointwiseForward, PointwiseBackwardData and
// PointwiseBackwardWeight set them).
var (
	pointwiseForwardGEMM pointwiseGEMMRecord = func(s *engine.Sequence, c pointwiseCall, t GEMMTile, sc *engine.Tensor) {
		PointwiseForwardGEMM(s, c.out, c.b, c.a, t, sc)
	}
	pointwiseBackwardDataGEMM pointwiseGEMMRecord = func(s *engine.Sequence, c pointwiseCall, t GEMMTile, sc *engine.Tensor) {
		PointwiseBackwardDataGEMM(s, c.out, c.b, c.a, t, sc)
	}
	pointwiseBackwardWeightGEMM pointwiseGEMMRecord = func(s *engine.Sequence, c pointwiseCall, t GEMMTile, sc *engine.Tensor) {
		PointwiseBackwardWeightGEMM(s, c.out, c.b, c.a, t, sc)
	}
)

// pointwiseGEMMVariants are the GEMM-family variants of one pointwise
// operation (GPU-shaped devices only, see gemmEligible): "gemm64" and
// "gemm32" (64x64x16/8x8 and 32x32x16/4x4 tiles), and with splitK their
// split-K versions "gemm64_splitk" and "gemm32_splitk" (gemmAutoSplit), for
// the weight gradient, whose reduction runs over N*H*W.
func pointwiseGEMMVariants(rec pointwiseGEMMRecord, splitK bool) []variant[pointwiseCall] {
	tiles := []struct {
		name string
		tile GEMMTile
	}{{"gemm64", gemmTile64}, {"gemm32", gemmTile32}}
	var out []variant[pointwiseCall]
	for _, tl := range tiles {
		out = append(out, pointwiseGEMMVariant(tl.name, tl.tile, false, rec))
	}
	if splitK {
		for _, tl := range tiles {
			out = append(out, pointwiseGEMMVariant(tl.name+"_splitk", tl.tile, true, rec))
		}
	}
	return out
}

// pointwiseGEMMVariant is the variant name recording with tile, split
// (gemmAutoSplit) when split says; a split variant is eligible only when
// the reduction splits into at least two pieces.
func pointwiseGEMMVariant(name string, tile GEMMTile, split bool, rec pointwiseGEMMRecord) variant[pointwiseCall] {
	tileFor := func(c pointwiseCall) GEMMTile {
		if split {
			return gemmAutoSplit(tile, c.g.m, c.g.ncol, c.g.k)
		}
		return tile
	}
	return variant[pointwiseCall]{
		name:    name,
		kernels: func(_ *engine.Device, c pointwiseCall) []string { return gemmKernels(tileFor(c), false) },
		eligible: func(d *engine.Device, c pointwiseCall) bool {
			t := tileFor(c)
			// The GEMM family has no epilogue, input scale or addend.
			return (!split || t.splits() > 1) && gemmEligible(d, t, c.g.m, c.g.ncol, c.g.k) && c.g.epilogue == nil && c.g.addend == nil
		},
		record: func(s *engine.Sequence, c pointwiseCall) {
			t := tileFor(c)
			rec(s, c, t, gemmScratch(s, t, c.out.Len()))
		},
	}
}
