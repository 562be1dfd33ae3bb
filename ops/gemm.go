package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// GEMMTile is one tiling of the shared-memory GEMM family (shaders/gemm.comp),
// the explicit choice its wrappers (LinearForwardGEMM, PointwiseForwardGEMM,
// ...) take: a workgroup computes a BM x BN tile of the output with
// (BM/TM)*(BN/TN) invocations, each a TM x TN register tile, staging BK
// reduction steps of both operands in shared memory at a time. SplitK > 1
// splits the reduction into that many pieces, summed afterwards in a fixed
// order (bitwise reproducible), through a scratch tensor of SplitK times the
// output's elements.
type GEMMTile struct {
	BM, BN, BK int
	TM, TN     int
	SplitK     int
}

// gemmPad is the padding of each shared-memory row, in vec4s (PAD in
// shaders/gemm.comp): rows of BM/4+1 vec4s put a column's elements in
// different banks.
const gemmPad = 1

// gemmCandidates are the tiles GEMMTiles filters by the device's limits:
// square tiles for large GEMMs, flat ones (BM 8 or 16) for the linears'
// batch of a few rows, tall ones for few columns (1x1 weight gradients of
// 32 or 48 outputs).
var gemmCandidates = []GEMMTile{
	{BM: 128, BN: 128, BK: 16, TM: 8, TN: 8},
	{BM: 64, BN: 64, BK: 16, TM: 4, TN: 4},
	{BM: 64, BN: 64, BK: 16, TM: 8, TN: 8},
	{BM: 64, BN: 32, BK: 16, TM: 4, TN: 4},
	{BM: 32, BN: 64, BK: 16, TM: 4, TN: 4},
	{BM: 32, BN: 32, BK: 16, TM: 4, TN: 4},
	{BM: 32, BN: 32, BK: 32, TM: 8, TN: 4},
	{BM: 16, BN: 64, BK: 32, TM: 4, TN: 4},
	{BM: 8, BN: 128, BK: 32, TM: 4, TN: 4},
	{BM: 8, BN: 64, BK: 32, TM: 8, TN: 4},
	{BM: 128, BN: 128, BK: 32, TM: 8, TN: 8},
	{BM: 128, BN: 128, BK: 16, TM: 4, TN: 4},
}

// Invocations is the tile's workgroup size, (BM/TM)*(BN/TN).
func (t GEMMTile) Invocations() int { return (t.BM / t.TM) * (t.BN / t.TN) }

// SharedBytes is the shared memory one workgroup of the tile uses.
func (t GEMMTile) SharedBytes() int { return 16 * t.BK * (t.BM/4 + gemmPad + t.BN/4 + gemmPad) }

// String names the tile, e.g. "64x64x16/4x4" or "64x64x16/4x4/k3".
func (t GEMMTile) String() string {
	s := fmt.Sprintf("%dx%dx%d/%dx%d", t.BM, t.BN, t.BK, t.TM, t.TN)
	if t.SplitK > 1 {
		s += fmt.Sprintf("/k%d", t.SplitK)
	}
	return s
}

// WithSplitK returns t with the reduction split into n pieces.
func (t GEMMTile) WithSplitK(n int) GEMMTile {
	t.SplitK = n
	return t
}

// splits is SplitK, 1 when unset.
func (t GEMMTile) splits() int { return max(t.SplitK, 1) }

// check reports why t cannot run on d: malformed sizes, or more shared
// memory or invocations than the device allows.
func (t GEMMTile) check(d *engine.Device) error {
	if t.TM < 4 || t.TN < 4 || t.TM%4 != 0 || t.TN%4 != 0 || t.BM%t.TM != 0 || t.BN%t.TN != 0 || t.BK < 1 || t.SplitK < 0 {
		return fmt.Errorf("GEMM tile %s is malformed: want TM and TN multiples of 4 dividing BM and BN, BK >= 1, SplitK >= 0", t)
	}
	info := d.Info
	if n := t.Invocations(); n > int(info.MaxWorkgroupInvocation) || n > int(info.MaxWorkgroupSize[0]) {
		return fmt.Errorf("GEMM tile %s needs %d invocations per workgroup, the device allows %d (x at most %d): pick one of ops.GEMMTiles", t, n, info.MaxWorkgroupInvocation, info.MaxWorkgroupSize[0])
	}
	if b := t.SharedBytes(); b > int(info.MaxSharedMemory) {
		return fmt.Errorf("GEMM tile %s needs %d bytes of shared memory, the device has %d: pick one of ops.GEMMTiles", t, b, info.MaxSharedMemory)
	}
	return nil
}

// GEMMTiles lists the tiles of the GEMM family that d can run (SplitK 1):
// a tile whose shared memory exceeds maxComputeSharedMemorySize or whose
// workgroup exceeds maxComputeWorkGroupInvocations is left out. Any of them
// may be given a split of the reduction with WithSplitK.
func GEMMTiles(d *engine.Device) []GEMMTile {
	var out []GEMMTile
	for _, t := range gemmCandidates {
		t.SplitK = 1
		if t.check(d) == nil {
			out = append(out, t)
		}
	}
	return out
}

// GEMMScratchLen is how many float32 elements the scratch of a GEMM-family
// call with tile t needs for an output tensor of outLen elements: 0 when
// the reduction is not split.
func GEMMScratchLen(t GEMMTile, outLen int) int {
	if t.splits() == 1 {
		return 0
	}
	return t.splits() * outLen
}

// gemmProblem is one GEMM C(m,j) = bias(j) + sum_k A(m,k) B(k,j) in the
// strided two-level addressing of shaders/gemm.comp.
type gemmProblem struct {
	m, n, k            int
	kdiv, jdiv         int // 0: no outer index
	am, akq, akr       int
	bkq, bkr, bjq, bjr int
	cm, cjq, cjr       int
	conv               gemmConv // implicit GEMM: B gathered from an image
}

// gemmConv is the B-operand gather of an implicit-GEMM convolution (CONV in
// shaders/gemm.comp; mode 0: none): kernel size ks, stride, the gathered
// image's channels ch, the input size h x w and the output size oh x ow.
type gemmConv struct {
	mode, ks, stride, ch, h, w, oh, ow int
}

// Modes of gemmConv (CONV in shaders/gemm.comp).
const (
	gemmConvForward = 1 // B = im2col(x)
	gemmConvWeight  = 2 // B = im2col(x) transposed
	gemmConvData    = 3 // B = dy gathered for the transposed convolution
)

// record dispatches p with tile t: out gets C, a and b are the operands,
// bias (or nil) is added per column, scratch holds the split partial sums
// (nil when t does not split). Errors are recorded in s under op.
func (p gemmProblem) record(s *engine.Sequence, op string, t GEMMTile, out, a, b, bias, scratch *engine.Tensor) {
	if s.Err() != nil {
		return
	}
	d := s.Device()
	if err := t.check(d); err != nil {
		s.Fail(fmt.Errorf("%s: %w", op, err))
		return
	}
	if p.kdiv <= 0 || p.kdiv > p.k {
		p.kdiv, p.akq, p.bkq = max(p.k, 1), 0, 0
	}
	if p.jdiv <= 0 || p.jdiv > p.n {
		p.jdiv, p.bjq, p.cjq = max(p.n, 1), 0, 0
	}
	kper := ceilDiv(ceilDiv(p.k, t.splits()), t.BK) * t.BK
	splits := ceilDiv(p.k, kper) // no empty piece
	grid := engine.Grid{X: ceilDiv(p.n, t.BN), Y: ceilDiv(p.m, t.BM), Z: splits}
	lim := d.Info.MaxWorkgroupCount
	if grid.X > int(lim[0]) || grid.Y > int(lim[1]) || grid.Z > int(lim[2]) {
		s.Fail(fmt.Errorf("%s: %d x %d x %d workgroups of tile %s exceed the device's %v: pick a larger tile", op, grid.X, grid.Y, grid.Z, t, lim))
		return
	}
	if splits > 1 {
		need := splits * p.m * p.n
		if scratch == nil || scratch.DType != engine.Float32 || scratch.Len() < need {
			s.Fail(fmt.Errorf("%s: tile %s needs a float32 scratch tensor of at least %d elements (ops.GEMMScratchLen), got %v", op, t, need, scratch))
			return
		}
	}
	bit := func(c bool) uint32 {
		if c {
			return 1
		}
		return 0
	}
	aVec := p.am == 1 && p.akq%4 == 0 && p.akr%4 == 0
	bVec := p.conv.mode == 0 && p.bjr == 1 && p.bkq%4 == 0 && p.bkr%4 == 0 && p.bjq%4 == 0 && (p.jdiv%4 == 0 || p.jdiv >= p.n)
	bKFast := p.conv.mode == 0 && p.bkr == 1 && p.bjr != 1
	ks, stride := max(p.conv.ks, 1), max(p.conv.stride, 1)
	spec := []engine.Spec{
		{ID: 0, Value: uint32(t.Invocations())},
		{ID: 1, Value: uint32(t.BM)}, {ID: 2, Value: uint32(t.BN)}, {ID: 3, Value: uint32(t.BK)},
		{ID: 4, Value: uint32(t.TM)}, {ID: 5, Value: uint32(t.TN)}, {ID: 6, Value: gemmPad},
		{ID: 7, Value: uint32(p.conv.mode)}, {ID: 8, Value: uint32(ks)}, {ID: 9, Value: uint32(stride)},
	}
	// FLAG_* of shaders/gemm.comp.
	flags := bit(p.akr == 1 && p.am != 1) | bit(bKFast)<<1 | bit(aVec)<<2 | bit(bVec)<<3
	push := shaders.GemmPush{
		M: uint32(p.m), N: uint32(p.n), K: uint32(p.k), Kdiv: uint32(p.kdiv), Jdiv: uint32(p.jdiv),
		Am: uint32(p.am), Akq: uint32(p.akq), Akr: uint32(p.akr),
		Bkq: uint32(p.bkq), Bkr: uint32(p.bkr), Bjq: uint32(p.bjq), Bjr: uint32(p.bjr),
		Cm: uint32(p.cm), Cjq: uint32(p.cjq), Cjr: uint32(p.cjr), Kper: uint32(kper), Flags: flags,
		CH: int32(p.conv.ch), H: int32(p.conv.h), W: int32(p.conv.w), OH: int32(p.conv.oh), OW: int32(p.conv.ow),
	}
	if splits == 1 {
		if bias == nil {
			s.Dispatch(s.Kernel("gemm", spec...), grid, push, out, a, b)
		} else {
			s.Dispatch(s.Kernel("gemm_bias", spec...), grid, shaders.GemmBiasPush(push), out, a, b, bias)
		}
		return
	}
	// The pieces into scratch as dense [splits][M][N], then their sum.
	part := push
	part.Cm, part.Cjq, part.Cjr, part.Cz = uint32(p.n), 0, 1, uint32(p.m*p.n)
	if p.jdiv < p.n {
		part.Cjq = uint32(p.jdiv)
	}
	s.Dispatch(s.Kernel("gemm", spec...), grid, part, scratch, a, b)
	sum := shaders.GemmSumPush{M: uint32(p.m), N: uint32(p.n), Jdiv: uint32(p.jdiv),
		Cm: uint32(p.cm), Cjq: uint32(p.cjq), Cjr: uint32(p.cjr), Splits: uint32(splits)}
	local := engine.Spec{ID: 0, Value: seLocalSize}
	if bias == nil {
		s.Dispatch1D(s.Kernel("gemm_sum", local), p.m*p.n, sum, out, scratch)
		return
	}
	s.Dispatch1D(s.Kernel("gemm_sum_bias", local), p.m*p.n, shaders.GemmSumBiasPush(sum), out, scratch, bias)
}
