package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// gemmBenchRow is a GEMM-family twin of a `bench ops` row of the linear or
// 1x1 families: the same shape, work and name, timed with a given tile.
type gemmBenchRow struct {
	name   string // the twin row's name, e.g. "linear 1280->1000 fwd"
	shape  string
	work   float64
	shapes [][]int // random float32 tensors passed to rec in order
	outLen int     // elements of the largest output (scratch per split)
	rec    func(s *engine.Sequence, t []*engine.Tensor, tile GEMMTile, scratch *engine.Tensor)
	tile   GEMMTile // the tile `bench ops` times
}

var gemmBenchRows []gemmBenchRow

// The twins of the linear rows (bench_misc.go) and 1x1 rows
// (bench_pointwise.go), batch 8. Each tile fits what every Vulkan device
// allows (at most 128 invocations and 16 KiB of shared memory). The linear
// rows' tiles were the fastest on lavapipe in
// `go test -run '^$' -bench GEMMTiles/linear -benchtime 3x ./ops`; the 1x1
// rows take 64x64x16/8x8, the fastest in the same sweep's 1x1 128->512
// forward and backward data rows (the sweep of the other 1x1 rows was not
// finished).
func init() {
	const n = 8
	t := func(bm, bn, bk, tm, tn, split int) GEMMTile {
		return GEMMTile{BM: bm, BN: bn, BK: bk, TM: tm, TN: tn, SplitK: split}
	}
	for _, fc := range []struct {
		in, out  int
		fwd, bwd GEMMTile
	}{
		{768, 32, t(32, 32, 32, 8, 4, 1), t(32, 32, 32, 8, 4, 1)},
		{32, 768, t(32, 64, 16, 4, 4, 1), t(32, 32, 32, 8, 4, 1)},
		{1280, 1000, t(8, 64, 32, 8, 4, 2), t(32, 64, 16, 4, 4, 1)},
	} {
		in, out := fc.in, fc.out
		flops := 2.0 * float64(n*in*out)
		name := fmt.Sprintf("linear %d->%d", in, out)
		shape := fmt.Sprint([]int{n, in, out})
		gemmBenchRows = append(gemmBenchRows, gemmBenchRow{
			name: name + " fwd", shape: shape, work: flops, outLen: n * out, tile: fc.fwd,
			shapes: [][]int{{n, out}, {n, in}, {out, in}, {out}},
			rec: func(s *engine.Sequence, t []*engine.Tensor, tile GEMMTile, sc *engine.Tensor) {
				LinearForwardGEMM(s, t[0], t[1], t[2], t[3], tile, sc)
			},
		}, gemmBenchRow{
			name: name + " bwd", shape: shape, work: 2 * flops, outLen: max(n*in, out*in), tile: fc.bwd,
			shapes: [][]int{{n, in}, {out, in}, {out}, {n, out}, {n, in}, {out, in}},
			rec: func(s *engine.Sequence, t []*engine.Tensor, tile GEMMTile, sc *engine.Tensor) {
				LinearBackwardDataGEMM(s, t[0], t[3], t[5], tile, sc)
				LinearBackwardWeightGEMM(s, t[1], t[2], t[3], t[4], tile, sc)
			},
		})
	}
	for _, c := range []struct {
		c, oc, hw         int
		fwd, data, weight GEMMTile
	}{
		{128, 512, 16, t(64, 64, 16, 8, 8, 1), t(64, 64, 16, 8, 8, 1), t(64, 64, 16, 8, 8, 1)},
		{512, 128, 16, t(64, 64, 16, 8, 8, 1), t(64, 64, 16, 8, 8, 1), t(64, 64, 16, 8, 8, 1)},
		{192, 48, 32, t(64, 64, 16, 8, 8, 1), t(64, 64, 16, 8, 8, 1), t(64, 64, 16, 8, 8, 1)},
		{256, 1280, 4, t(64, 64, 16, 8, 8, 1), t(64, 64, 16, 8, 8, 1), t(64, 64, 16, 8, 8, 1)},
	} {
		x := []int{n, c.c, c.hw, c.hw}
		y := []int{n, c.oc, c.hw, c.hw}
		w := []int{c.oc, c.c, 1, 1}
		shape := fmt.Sprintf("%v -> %v", x, y)
		name := fmt.Sprintf("1x1 %d->%d @%dx%d", c.c, c.oc, c.hw, c.hw)
		flops := 2 * float64(n*c.hw*c.hw) * float64(c.c*c.oc)
		gemmBenchRows = append(gemmBenchRows, gemmBenchRow{
			name: name + " fwd", shape: shape, work: flops, outLen: n * c.oc * c.hw * c.hw, tile: c.fwd,
			shapes: [][]int{y, x, w},
			rec: func(s *engine.Sequence, t []*engine.Tensor, tile GEMMTile, sc *engine.Tensor) {
				PointwiseForwardGEMM(s, t[0], t[1], t[2], tile, sc)
			},
		}, gemmBenchRow{
			name: name + " bwd data", shape: shape, work: flops, outLen: n * c.c * c.hw * c.hw, tile: c.data,
			shapes: [][]int{x, y, w},
			rec: func(s *engine.Sequence, t []*engine.Tensor, tile GEMMTile, sc *engine.Tensor) {
				PointwiseBackwardDataGEMM(s, t[0], t[1], t[2], tile, sc)
			},
		}, gemmBenchRow{
			name: name + " bwd weight", shape: shape, work: flops, outLen: c.oc * c.c, tile: c.weight,
			shapes: [][]int{w, x, y},
			rec: func(s *engine.Sequence, t []*engine.Tensor, tile GEMMTile, sc *engine.Tensor) {
				PointwiseBackwardWeightGEMM(s, t[0], t[1], t[2], tile, sc)
			},
		})
	}
	// The 3x3 convolutions of bench_conv2d.go as implicit GEMMs: the
	// reduction of the weight gradient (N*OH*OW, 8192 to 32768 steps) split
	// in 4; not swept.
	square := t(64, 64, 16, 8, 8, 1)
	for _, c := range []struct {
		label            string
		c, h, oc, stride int
		data             GEMMTile // 8 rows for the stem's 3 input channels
	}{
		{"stem", 3, 128, 24, 2, t(8, 64, 32, 8, 4, 1)},
		{"fused", 24, 64, 96, 1, square},
		{"fused", 48, 32, 192, 1, square},
	} {
		const k = 3
		oh := ConvOutSize(c.h, k, c.stride)
		x, y, w := []int{n, c.c, c.h, c.h}, []int{n, c.oc, oh, oh}, []int{c.oc, c.c, k, k}
		shape := fmt.Sprintf("%v -> %v k%d s%d", x, y, k, c.stride)
		name := fmt.Sprintf("conv3x3 %s %d->%d s%d @%dx%d", c.label, c.c, c.oc, c.stride, c.h, c.h)
		flops := 2 * float64(n*c.oc*oh*oh) * float64(c.c*k*k)
		stride := c.stride
		gemmBenchRows = append(gemmBenchRows, gemmBenchRow{
			name: name + " fwd", shape: shape, work: flops, outLen: n * c.oc * oh * oh, tile: square,
			shapes: [][]int{y, x, w},
			rec: func(s *engine.Sequence, t []*engine.Tensor, tile GEMMTile, sc *engine.Tensor) {
				Conv2DForwardGEMM(s, t[0], t[1], t[2], stride, tile, sc)
			},
		}, gemmBenchRow{
			name: name + " bwd data", shape: shape, work: flops, outLen: n * c.c * c.h * c.h, tile: c.data,
			shapes: [][]int{x, y, w},
			rec: func(s *engine.Sequence, t []*engine.Tensor, tile GEMMTile, sc *engine.Tensor) {
				Conv2DBackwardDataGEMM(s, t[0], t[1], t[2], stride, tile, sc)
			},
		}, gemmBenchRow{
			name: name + " bwd weight", shape: shape, work: flops, outLen: c.oc * c.c * k * k, tile: square.WithSplitK(4),
			shapes: [][]int{w, x, y},
			rec: func(s *engine.Sequence, t []*engine.Tensor, tile GEMMTile, sc *engine.Tensor) {
				Conv2DBackwardWeightGEMM(s, t[0], t[1], t[2], stride, tile, sc)
			},
		})
	}
	for _, r := range gemmBenchRows {
		RegisterBench(r.benchCase(r.tile))
	}
}

// GEMMBenchRows names the rows of `bench ops` that have a GEMM-family twin
// (the linears, the 1x1 and the 3x3 convolutions), for GEMMBenchCase.
func GEMMBenchRows() []string {
	out := make([]string, len(gemmBenchRows))
	for i, r := range gemmBenchRows {
		out[i] = r.name
	}
	return out
}

// GEMMBenchCase is the GEMM-family twin of the named `bench ops` row
// (GEMMBenchRows) with the given tile, in family "gemm", named after the row
// and the tile ("linear 1280->1000 fwd gemm 8x64x32/8x4").
func GEMMBenchCase(row string, tile GEMMTile) (BenchCase, error) {
	for _, r := range gemmBenchRows {
		if r.name == row {
			return r.benchCase(tile), nil
		}
	}
	return BenchCase{}, fmt.Errorf("ops: no GEMM bench row %q: see ops.GEMMBenchRows", row)
}

func (r gemmBenchRow) benchCase(tile GEMMTile) BenchCase {
	return BenchCase{
		Name: r.name + " gemm " + tile.String(), Op: "gemm", Shape: r.shape, Unit: GFLOPs, Work: r.work,
		Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
			if err := tile.check(d); err != nil {
				return nil, fmt.Errorf("%s: %w", r.name, err)
			}
			t, err := miscTensors(d, r.shapes)
			if err != nil {
				return nil, err
			}
			var scratch *engine.Tensor
			if k := GEMMScratchLen(tile, r.outLen); k > 0 {
				if scratch, err = d.NewTensor("gemm scratch", engine.Float32, k); err != nil {
					miscFree(t)
					return nil, err
				}
				t = append(t, scratch)
			}
			r.rec(s, t, tile, scratch)
			return func() { miscFree(t) }, nil
		},
	}
}
