package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// Tiling of the pointwise kernels; mirrors ROWS and COLS in
// shaders/pointwise.comp. The row tiles per cluster (RT), the reduction
// chunk (KC) and the local size (clusters per workgroup) are specialization
// constants chosen per GEMM and device.
const (
	pointwiseTileRows  = clusterLanes // rows per register tile = invocations per cluster
	pointwiseTileCols  = 32           // output columns per cluster (a vec4 per invocation)
	pointwiseSpecLocal = 5            // the local size's specialization constant
	pointwiseSpecAOnce = 6            // A_ONCE's specialization constant
)

// pointwiseRowsPerPass is RH, the rows of a register tile updated per pass
// over a chunk: 4 keeps 16 accumulators live, which fit a CPU driver's
// vector registers; 8 (one pass) spilled them. On lavapipe 4 ran the
// forward and backward-weight GEMMs 1.15-1.35x faster than 8 and backward
// data as fast; 2 was slower (`effv2vk bench ops --only 1x1`, three
// alternating runs).
const pointwiseRowsPerPass = 4

// pointwiseChunks are the reduction chunks (KC) the kernel may be built
// with on a GPU, largest first, and pointwiseRowTiles the row tiles per
// workgroup (RT). pointwiseCPUChunks are a CPU driver's: on lavapipe a
// chunk of 8 ran every 1x1 row of `effv2vk bench ops` (and five more V2-S
// shapes at 8x8 and 4x4) 0.70-0.99x the time of the widest chunk that
// divides K (median 0.88x; 192->48 @32x32 backward data 0.70x), and 4 as
// fast as 8 within noise (three alternating runs, EFFV2VK_TUNE=off): the
// panel of KC vec4 per invocation then stays in vector registers. RT 4 was
// the fastest where it divides the GEMM.
var (
	pointwiseChunks    = []int{32, 24, 16, 8}
	pointwiseCPUChunks = []int{8, 4}
	pointwiseRowTiles  = []int{4, 3, 2, 1}
)

// pointwiseChunk is the reduction chunk (KC) the pointwise kernels use on d
// for a reduction of k steps unless tuned otherwise: the size among d's
// chunks (the device defaults': pointwiseCPUChunks on a CPU driver, else
// pointwiseChunks) that pads k least.
func pointwiseChunk(d *engine.Device, k int) int {
	if defaultsOf(d).pointwiseCPUChunks {
		return leastPadding(k, pointwiseCPUChunks)
	}
	return leastPadding(k, pointwiseChunks)
}

// pointwiseAOnceByDefault reports whether g fetches A once per chunk for
// both row passes (A_ONCE) unless tuned otherwise: where the device
// defaults say so (a CPU driver), for column-major A (backward data,
// fetchVec4Rows), where it measured faster. In two tune caches (21
// backward-data shapes of the V2-S step and of `bench ops`, each variant
// timed by the tuner on lavapipe) A_ONCE took 0.66-0.95x the time of
// fetching again in each pass, median 0.80x; for row-major A (forward)
// 0.81-1.19x, median 0.98x: not a default there.
func pointwiseAOnceByDefault(d *engine.Device, g pointwiseGemm) bool {
	return defaultsOf(d).pointwiseAOnce && !g.nt && g.aMode == fetchVec4Rows
}

// rowTiles picks RT for a GEMM of the given number of 8-row tiles: padded
// rows cost their arithmetic, and each workgroup reloads the B panel, about
// one tile's worth of work per RT tiles (a model, not a measurement of each
// case: it keeps 4 where 4 divides, and picks 3 for 40 or 48 rows).
func rowTiles(tiles int) int {
	best, bestCost := 0, 0.0
	for _, rt := range pointwiseRowTiles {
		cost := float64(ceilDiv(tiles, rt)*rt) * (1 + 1/float64(rt))
		if best == 0 || cost < bestCost {
			best, bestCost = rt, cost
		}
	}
	return best
}

// leastPadding returns the first (largest) of sizes whose multiples cover n
// with the fewest padded elements.
func leastPadding(n int, sizes []int) int {
	best := sizes[0]
	for _, z := range sizes[1:] {
		if ceilDiv(n, z)*z < ceilDiv(n, best)*best {
			best = z
		}
	}
	return best
}

// pointwisePush is the push-constant block shared by the four pointwise
// kernels (the tests check that all of them declare the same block).
type pointwisePush = shaders.PointwiseNnPush

// Fetch widths of the pointwise kernels (specialization constants A_MODE and
// B_MODE in shaders/pointwise.comp).
const (
	fetchScalar   = 0 // one float per fetch: any alignment
	fetchVec4     = 1 // 4 consecutive floats of the reduction (A) or columns (B)
	fetchVec4Rows = 2 // A only: 4 consecutive rows (column-major A)
)

// pointwiseGemm is one GEMM O = A * B (nt false) or O = A * B^T over the
// batch (nt true) as described in shaders/pointwise.comp.
type pointwiseGemm struct {
	nt             bool
	m, ncol, k, hw int
	am, ak         int // A strides (NN only)
	aMode, bMode   uint32
	outVec4        bool
	kc             int            // reduction chunk (KC); 0: pointwiseChunk's choice
	rt             int            // row tiles per workgroup; 0: rowTiles' choice
	rh             int            // rows per pass over a chunk (RH); 0: pointwiseRowsPerPass
	aOnce          bool           // fetch A once per chunk for all passes (A_ONCE)
	epilogue       *Epilogue      // the fused epilogue or input scale (NT: input scale only), or nil
	addend         *engine.Tensor // NN backward data: added to each output (the _add variants), or nil
}

// baseName is the pointwise kernel g records, before the cluster shape's
// variant suffix.
func (g pointwiseGemm) baseName() string {
	name := "pointwise_nn"
	if g.nt {
		name = "pointwise_nt"
	}
	if g.outVec4 {
		name += "_v4"
	}
	if g.addend != nil {
		name += "_add"
	}
	return name + epilogueVariant(g.epilogue)
}

// kernelName is the pointwise kernel g records on d.
func (g pointwiseGemm) kernelName(d *engine.Device) string {
	return g.baseName() + clusterShapeOf(d).variant
}

// record dispatches g with output out and operands a, b.
func (g pointwiseGemm) record(s *engine.Sequence, op string, out, a, b *engine.Tensor) {
	info := s.Device().Info
	shape := clusterShapeOf(s.Device())
	kc := g.kc
	if kc == 0 {
		kc = pointwiseChunk(s.Device(), g.k)
	}
	rt := g.rt
	if rt == 0 {
		rt = rowTiles(ceilDiv(g.m, pointwiseTileRows))
	}
	rh := g.rh
	if rh == 0 {
		rh = pointwiseRowsPerPass
	}
	specs := []engine.Spec{{ID: 0, Value: g.aMode}, {ID: 1, Value: g.bMode},
		{ID: 2, Value: uint32(kc)}, {ID: 3, Value: uint32(rt)}, {ID: 4, Value: uint32(rh)}}
	if g.aOnce || pointwiseAOnceByDefault(s.Device(), g) {
		specs = append(specs, engine.Spec{ID: pointwiseSpecAOnce, Value: 1})
	}
	k := shape.kernel(s, g.baseName(), pointwiseSpecLocal, withEpilogue(specs, g.epilogue)...)
	if k == nil {
		return
	}
	// Workgroups of shape.clusters() clusters, each owning a column tile.
	tiles := ceilDiv(ceilDiv(g.ncol, pointwiseTileCols), shape.clusters())
	gx := min(tiles, int(info.MaxWorkgroupCount[0]))
	grid := engine.Grid{X: gx, Y: ceilDiv(g.m, rt*pointwiseTileRows), Z: ceilDiv(tiles, gx)}
	s.Dispatch(k, grid, pointwisePush{
		M: uint32(g.m), Ncol: uint32(g.ncol), K: uint32(g.k), Hw: uint32(g.hw),
		Am: uint32(g.am), Ak: uint32(g.ak),
	}, withAddend(epilogueArgs(g.epilogue, out, a, b), g.addend)...)
}

// pointwiseCheck reads N, C, OC, H, W from a 1x1 convolution's input-sized
// tensor img ([N,C,H,W]), output-sized tensor out ([N,OC,H,W]) and weight-
// sized tensor wt ([OC,C,1,1]), recording an error in s when they disagree.
func pointwiseCheck(s *engine.Sequence, op string, img, out, wt *engine.Tensor, imgRole, outRole, wRole string) (n, c, oc, hw int, ok bool) {
	if s.Err() != nil {
		return 0, 0, 0, 0, false
	}
	n, c, h, w, ok := shape4(s, op, img)
	if !ok {
		return 0, 0, 0, 0, false
	}
	if wt == nil || len(wt.Shape) != 4 || wt.Shape[1] != c || wt.Shape[2] != 1 || wt.Shape[3] != 1 {
		s.Fail(fmt.Errorf("%s: %s %v does not fit %s %v: want [OC,%d,1,1]", op, wRole, wt, imgRole, img, c))
		return 0, 0, 0, 0, false
	}
	oc = wt.Shape[0]
	if !wantShape(s, op, outRole, out, n, oc, h, w) {
		return 0, 0, 0, 0, false
	}
	for _, t := range []*engine.Tensor{img, out, wt} {
		if t.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: %v is %s, want float32", op, t, t.DType))
			return 0, 0, 0, 0, false
		}
	}
	return n, c, oc, h * w, true
}

// aligned4 is fetchVec4 mode when n is a multiple of 4, else fetchScalar.
func aligned4(n int, mode uint32) uint32 {
	if n%4 == 0 {
		return mode
	}
	return fetchScalar
}

// PointwiseForward records a 1x1 convolution (stride 1, no bias):
//
//	y[n,o,h,w] = sum_{c<C} w[o,c,0,0] * x[n,c,h,w]
//
// i.e. y[n] (OC x HW) = W (OC x C) * x[n] (C x HW) for each image. x is
// [N,C,H,W], w is [OC,C,1,1], y is [N,OC,H,W] (overwritten).
func PointwiseForward(s *engine.Sequence, y, x, w *engine.Tensor) {
	pointwiseForward(s, y, x, w, nil)
}

// pointwiseForward records PointwiseForward, with the fused epilogue ep
// unless it is nil (PointwiseForwardFused).
func pointwiseForward(s *engine.Sequence, y, x, w *engine.Tensor, ep *Epilogue) {
	const op = "pointwise forward"
	n, c, oc, hw, ok := pointwiseCheck(s, op, x, y, w, "x", "y", "w")
	if !ok || splitBatch(s, op, func(part batchPart, _ int) { pointwiseForward(s, part(y), part(x), w, ep.sliced(part)) }, ep.withBatchMajor(y, x)...) {
		return
	}
	gemm := pointwiseGemm{
		m: oc, ncol: n * hw, k: c, hw: hw, am: c, ak: 1,
		aMode: aligned4(c, fetchVec4), bMode: aligned4(hw, fetchVec4), outVec4: hw%4 == 0, epilogue: ep,
	}
	pointwiseForwardTuned.record(s, pointwiseCall{g: gemm, out: y, a: w, b: x})
}

// PointwiseBackwardData records the gradient of PointwiseForward with
// respect to its input:
//
//	dx[n,c,h,w] = sum_{o<OC} w[o,c,0,0] * dy[n,o,h,w]
//
// i.e. dx[n] = W^T * dy[n]. dy is [N,OC,H,W], w is [OC,C,1,1], dx is
// [N,C,H,W] (overwritten).
func PointwiseBackwardData(s *engine.Sequence, dx, dy, w *engine.Tensor) {
	pointwiseBackwardData(s, dx, dy, w, nil)
}

// pointwiseBackwardData records PointwiseBackwardData, adding addend to dx
// unless it is nil (PointwiseBackwardDataAdd).
func pointwiseBackwardData(s *engine.Sequence, dx, dy, w, addend *engine.Tensor) {
	const op = "pointwise backward data"
	n, c, oc, hw, ok := pointwiseCheck(s, op, dx, dy, w, "dx", "dy", "w")
	if !ok || !addendCheck(s, op, dx, addend, dy, w) || splitBatch(s, op, func(part batchPart, _ int) {
		pointwiseBackwardData(s, part(dx), part(dy), w, partOrNil(part, addend))
	}, withNonNil([]*engine.Tensor{dx, dy}, addend)...) {
		return
	}
	gemm := pointwiseGemm{
		m: c, ncol: n * hw, k: oc, hw: hw, am: 1, ak: c,
		aMode: aligned4(c, fetchVec4Rows), bMode: aligned4(hw, fetchVec4), outVec4: hw%4 == 0, addend: addend,
	}
	pointwiseBackwardDataTuned.record(s, pointwiseCall{g: gemm, out: dx, a: w, b: dy})
}

// PointwiseBackwardWeight records the gradient of PointwiseForward with
// respect to its weight:
//
//	dw[o,c,0,0] = sum_{n,h,w} dy[n,o,h,w] * x[n,c,h,w]
//
// i.e. dW = sum_n dy[n] * x[n]^T. x is [N,C,H,W], dy is [N,OC,H,W], dw is
// [OC,C,1,1] (overwritten, not accumulated). The sum over N*H*W runs in a
// fixed order inside each workgroup (no atomics): results are bitwise
// reproducible.
func PointwiseBackwardWeight(s *engine.Sequence, dw, x, dy *engine.Tensor) {
	pointwiseBackwardWeight(s, dw, x, dy, nil)
}

// pointwiseBackwardWeight records PointwiseBackwardWeight, with x scaled by
// ep.InputScale unless ep is nil (PointwiseBackwardWeightScaled).
func pointwiseBackwardWeight(s *engine.Sequence, dw, x, dy *engine.Tensor, ep *Epilogue) {
	const op = "pointwise backward weight"
	n, c, oc, hw, ok := pointwiseCheck(s, op, x, dy, dw, "x", "dy", "dw")
	if !ok || splitBatchSum(s, op, []*engine.Tensor{dw}, func(part batchPart, sums []*engine.Tensor) {
		pointwiseBackwardWeight(s, sums[0], part(x), part(dy), ep.sliced(part))
	}, ep.withBatchMajor(x, dy)...) {
		return
	}
	gemm := pointwiseGemm{
		nt: true, m: oc, ncol: c, k: n * hw, hw: hw,
		aMode: aligned4(hw, fetchVec4), bMode: aligned4(hw, fetchVec4), outVec4: c%4 == 0, epilogue: ep,
	}
	pointwiseBackwardWeightTuned.record(s, pointwiseCall{g: gemm, out: dw, a: dy, b: x})
}
