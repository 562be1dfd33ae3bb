package ops

import (
	"github.com/effv2vk/effv2vk/engine"
)

// Tuner candidates from the shared-memory GEMM family (shaders/gemm.comp).
// They are eligible only on GPU-shaped devices (cpuShaped false: a GPU, or
// lavapipe with GPUChoicesEnv=1): on lavapipe the family measured 4-25x
// slower than the pointwise, linear and convolution kernels, so timing it
// there would only slow first-use tuning. Tests force them with
// GPUChoicesEnv=1 (TestTunedVariantsMatchReference).

// Tiles of the GEMM variants (each one of gemmCandidates): a square one
// for large GEMMs, a smaller square one for few rows or columns, a flat
// one for the linears' batch of a few rows.
var (
	gemmTile64   = GEMMTile{BM: 64, BN: 64, BK: 16, TM: 8, TN: 8, SplitK: 1}
	gemmTile32   = GEMMTile{BM: 32, BN: 32, BK: 16, TM: 4, TN: 4, SplitK: 1}
	gemmTileFlat = GEMMTile{BM: 16, BN: 64, BK: 32, TM: 4, TN: 4, SplitK: 1}
)

// gemmSplitWorkgroups is about how many workgroups a split-K GEMM variant
// aims at (tiles times pieces), like conv2dWeightWorkgroups.
const gemmSplitWorkgroups = 1024

// gemmSplitMinSteps is the fewest BK-deep steps of the reduction a split-K
// piece walks.
const gemmSplitMinSteps = 4

// gemmAutoSplit returns t split into as many pieces as bring an m x n
// GEMM with reduction k to about gemmSplitWorkgroups workgroups, each
// piece at least gemmSplitMinSteps*BK deep, counted as the GEMM's record
// counts them (no empty piece); SplitK 1 when k is too short to split.
func gemmAutoSplit(t GEMMTile, m, n, k int) GEMMTile {
	tiles := ceilDiv(m, t.BM) * ceilDiv(n, t.BN)
	want := min(ceilDiv(gemmSplitWorkgroups, tiles), k/(gemmSplitMinSteps*t.BK))
	if want < 2 {
		return t.WithSplitK(1)
	}
	kper := ceilDiv(ceilDiv(k, want), t.BK) * t.BK
	return t.WithSplitK(ceilDiv(k, kper))
}

// gemmEligible reports whether tile t (split as it says) is a candidate
// for an m x n GEMM with reduction k on d: a GPU-shaped device, a tile d
// can run, a grid within d's limits, and a split into at least two pieces
// when t asks for one.
func gemmEligible(d *engine.Device, t GEMMTile, m, n, k int) bool {
	if !defaultsOf(d).gemmFamily || t.check(d) != nil || m < 1 || n < 1 || k < 1 {
		return false
	}
	lim := d.Info.MaxWorkgroupCount
	return ceilDiv(n, t.BN) <= int(lim[0]) && ceilDiv(m, t.BM) <= int(lim[1]) && t.splits() <= int(lim[2])
}

// gemmKernels are the shader-index kernels a GEMM variant with tile t
// dispatches (with a bias or not).
func gemmKernels(t GEMMTile, bias bool) []string {
	switch {
	case t.splits() > 1 && bias:
		return []string{"gemm", "gemm_sum_bias"}
	case t.splits() > 1:
		return []string{"gemm", "gemm_sum"}
	case bias:
		return []string{"gemm_bias"}
	}
	return []string{"gemm"}
}

// gemmScratch allocates, for the sequence's lifetime, the split partial
// sums of tile t for an output of outLen elements (nil without a split).
func gemmScratch(s *engine.Sequence, t GEMMTile, outLen int) *engine.Tensor {
	n := GEMMScratchLen(t, outLen)
	if n == 0 {
		return nil
	}
	return s.Scratch("GEMM split-K partial sums", engine.Float32, n)
}
