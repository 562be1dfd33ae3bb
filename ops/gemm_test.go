package ops_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// gemmTestTiles are the tiles every GEMM-family test runs: each tile the
// device can run, whole and with the reduction split in 3 (which also gives
// uneven pieces and, for short reductions, fewer pieces than asked).
func gemmTestTiles(d *engine.Device) []ops.GEMMTile {
	var out []ops.GEMMTile
	for _, t := range ops.GEMMTiles(d) {
		out = append(out, t, t.WithSplitK(3))
	}
	return out
}

// gemmOp is one GEMM-family call under test: rec records it into s writing
// out, with the given tile and scratch (nil when the tile does not split).
type gemmOp struct {
	name  string
	shape []int     // out's shape
	want  []float64 // float64 reference
	rec   func(s *engine.Sequence, out *engine.Tensor, tile ops.GEMMTile, scratch *engine.Tensor)
}

// checkGEMMOps runs every op with every tile twice, into NaN-poisoned
// outputs and scratch, and compares the first run with the reference and
// the second with the first, bit for bit.
func checkGEMMOps(t *testing.T, d *engine.Device, tiles []ops.GEMMTile, cases []gemmOp) {
	t.Helper()
	for _, c := range cases {
		for _, tile := range tiles {
			var first []float64
			for rep := range 2 {
				out := poisoned(t, d, "out", c.shape...)
				var scratch *engine.Tensor
				if n := ops.GEMMScratchLen(tile, out.Len()); n > 0 {
					scratch = poisoned(t, d, "scratch", n)
				}
				run(t, d, func(s *engine.Sequence) { c.rec(s, out, tile, scratch) })
				got := download(t, out)
				if rep == 0 {
					first = got
					compare(t, c.name+" tile "+tile.String(), got, c.want, 1e-4)
				} else {
					sameBits(t, c.name+" tile "+tile.String(), first, got)
				}
				out.Free()
				if scratch != nil {
					scratch.Free()
				}
			}
		}
	}
}

// TestGEMMLinear runs the linear layers through every GEMM tile: the
// squeeze-excite and classifier shapes of EfficientNetV2-S at batch 8 and
// odd ones (1, 7, 33, 102 ...), forward with and without bias, backward data
// and backward weight with the bias gradient.
func TestGEMMLinear(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	tiles := gemmTestTiles(d)
	for _, c := range []struct{ n, in, out int }{
		{8, 768, 32}, {8, 32, 768}, {8, 1280, 1000},
		{1, 1, 1}, {7, 33, 102}, {3, 13, 6}, {33, 7, 5}, {2, 102, 1},
	} {
		t.Run(fmt.Sprintf("%dx%d->%d", c.n, c.in, c.out), func(t *testing.T) {
			x64, x32 := randSlice(r, c.n*c.in)
			w64, w32 := randSlice(r, c.out*c.in)
			b64, b32 := randSlice(r, c.out)
			dy64, dy32 := randSlice(r, c.n*c.out)
			x := upload(t, d, "x", x32, c.n, c.in)
			w := upload(t, d, "w", w32, c.out, c.in)
			b := upload(t, d, "b", b32, c.out)
			dy := upload(t, d, "dy", dy32, c.n, c.out)
			wantDx, wantDw, wantDb := ref.LinearBackward(dy64, x64, c.n, c.in, w64, c.out)
			checkGEMMOps(t, d, tiles, []gemmOp{
				{"forward", []int{c.n, c.out}, ref.LinearForward(x64, c.n, c.in, w64, b64, c.out),
					func(s *engine.Sequence, y *engine.Tensor, tile ops.GEMMTile, sc *engine.Tensor) {
						ops.LinearForwardGEMM(s, y, x, w, b, tile, sc)
					}},
				{"forward without bias", []int{c.n, c.out}, ref.LinearForward(x64, c.n, c.in, w64, nil, c.out),
					func(s *engine.Sequence, y *engine.Tensor, tile ops.GEMMTile, sc *engine.Tensor) {
						ops.LinearForwardGEMM(s, y, x, w, nil, tile, sc)
					}},
				{"backward data", []int{c.n, c.in}, wantDx,
					func(s *engine.Sequence, dx *engine.Tensor, tile ops.GEMMTile, sc *engine.Tensor) {
						ops.LinearBackwardDataGEMM(s, dx, dy, w, tile, sc)
					}},
				{"backward weight", []int{c.out, c.in}, wantDw,
					func(s *engine.Sequence, dw *engine.Tensor, tile ops.GEMMTile, sc *engine.Tensor) {
						ops.LinearBackwardWeightGEMM(s, dw, nil, dy, x, tile, sc)
					}},
			})
			// The bias gradient beside the weight gradient.
			tile := ops.GEMMTiles(d)[0]
			dw := poisoned(t, d, "dw", c.out, c.in)
			db := poisoned(t, d, "db", c.out)
			run(t, d, func(s *engine.Sequence) { ops.LinearBackwardWeightGEMM(s, dw, db, dy, x, tile, nil) })
			compare(t, "dw beside db", download(t, dw), wantDw, 1e-4)
			compare(t, "db", download(t, db), wantDb, 1e-4)
		})
	}
}

// TestGEMMPointwise runs the 1x1 convolutions through every GEMM tile:
// EfficientNetV2-S's shapes (expand and project at 16x16, the Fused-MBConv
// project at 32x32) at batch 1, the head at 4x4 at batch 2, and odd ones (channels
// 1, 7, 33, 102, H*W of 1 and odd, batch 1 and 3).
func TestGEMMPointwise(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	tiles := gemmTestTiles(d)
	for _, pc := range []pointwiseCase{
		{1, 128, 512, 16, 16}, {1, 512, 128, 16, 16}, {1, 192, 48, 32, 32}, {2, 256, 1280, 4, 4},
		{1, 1, 1, 1, 1}, {3, 7, 33, 1, 1}, {2, 33, 102, 7, 7}, {1, 102, 7, 3, 5}, {3, 5, 6, 2, 2},
	} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d->%d", pc.n, pc.c, pc.h, pc.w, pc.oc), func(t *testing.T) {
			xs := ref.Shape4{N: pc.n, C: pc.c, H: pc.h, W: pc.w}
			ys := ref.Shape4{N: pc.n, C: pc.oc, H: pc.h, W: pc.w}
			x64, x32 := randSlice(r, xs.Len())
			w64, w32 := randSlice(r, pc.oc*pc.c)
			dy64, dy32 := randSlice(r, ys.Len())
			x := upload(t, d, "x", x32, pc.n, pc.c, pc.h, pc.w)
			w := upload(t, d, "w", w32, pc.oc, pc.c, 1, 1)
			dy := upload(t, d, "dy", dy32, pc.n, pc.oc, pc.h, pc.w)
			wantY, _ := ref.Conv2DForward(x64, xs, w64, pc.oc, 1, 1)
			checkGEMMOps(t, d, tiles, []gemmOp{
				{"forward", []int{pc.n, pc.oc, pc.h, pc.w}, wantY,
					func(s *engine.Sequence, y *engine.Tensor, tile ops.GEMMTile, sc *engine.Tensor) {
						ops.PointwiseForwardGEMM(s, y, x, w, tile, sc)
					}},
				{"backward data", []int{pc.n, pc.c, pc.h, pc.w}, ref.Conv2DBackwardData(dy64, ys, w64, xs, 1, 1),
					func(s *engine.Sequence, dx *engine.Tensor, tile ops.GEMMTile, sc *engine.Tensor) {
						ops.PointwiseBackwardDataGEMM(s, dx, dy, w, tile, sc)
					}},
				{"backward weight", []int{pc.oc, pc.c, 1, 1}, ref.Conv2DBackwardWeight(x64, xs, dy64, ys, 1, 1),
					func(s *engine.Sequence, dw *engine.Tensor, tile ops.GEMMTile, sc *engine.Tensor) {
						ops.PointwiseBackwardWeightGEMM(s, dw, x, dy, tile, sc)
					}},
			})
		})
	}
}

// TestGEMMConv2D runs the implicit-GEMM convolutions (forward, backward
// data, backward weight) against the float64 references: EfficientNetV2-S's
// stem (3->24, stride 2) and a Fused-MBConv 3x3 (24->96 at 32x32), batch 1,
// and odd shapes with kernel sizes 1, 3 and 5 and strides 1 and 2. Three
// tiles (square, flat, tall), each whole and split in 3: every tile
// compiles three pipelines per kernel size and stride.
func TestGEMMConv2D(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	all := ops.GEMMTiles(d)
	var tiles []ops.GEMMTile
	for _, tile := range []ops.GEMMTile{all[0], all[len(all)/2], all[len(all)-1]} {
		tiles = append(tiles, tile, tile.WithSplitK(3))
	}
	for _, c := range []struct {
		xs        ref.Shape4
		oc, k, st int
	}{
		{ref.Shape4{N: 1, C: 3, H: 64, W: 64}, 24, 3, 2},
		{ref.Shape4{N: 1, C: 24, H: 32, W: 32}, 96, 3, 1},
		{ref.Shape4{N: 2, C: 5, H: 7, W: 9}, 7, 3, 1},
		{ref.Shape4{N: 3, C: 7, H: 9, W: 6}, 33, 3, 2},
		{ref.Shape4{N: 1, C: 4, H: 5, W: 5}, 3, 5, 2},
		{ref.Shape4{N: 2, C: 6, H: 3, W: 4}, 5, 1, 2},
	} {
		t.Run(fmt.Sprintf("%s->%d k%d s%d", c.xs, c.oc, c.k, c.st), func(t *testing.T) {
			x64, x32 := randSlice(r, c.xs.Len())
			w64, w32 := randSlice(r, c.oc*c.xs.C*c.k*c.k)
			wantY, ys := ref.Conv2DForward(x64, c.xs, w64, c.oc, c.k, c.st)
			dy64, dy32 := randSlice(r, ys.Len())
			x := upload(t, d, "x", x32, c.xs.N, c.xs.C, c.xs.H, c.xs.W)
			w := upload(t, d, "w", w32, c.oc, c.xs.C, c.k, c.k)
			dy := upload(t, d, "dy", dy32, ys.N, ys.C, ys.H, ys.W)
			checkGEMMOps(t, d, tiles, []gemmOp{
				{"forward", []int{ys.N, ys.C, ys.H, ys.W}, wantY,
					func(s *engine.Sequence, y *engine.Tensor, tile ops.GEMMTile, sc *engine.Tensor) {
						ops.Conv2DForwardGEMM(s, y, x, w, c.st, tile, sc)
					}},
				{"backward data", []int{c.xs.N, c.xs.C, c.xs.H, c.xs.W}, ref.Conv2DBackwardData(dy64, ys, w64, c.xs, c.k, c.st),
					func(s *engine.Sequence, dx *engine.Tensor, tile ops.GEMMTile, sc *engine.Tensor) {
						ops.Conv2DBackwardDataGEMM(s, dx, dy, w, c.st, tile, sc)
					}},
				{"backward weight", []int{c.oc, c.xs.C, c.k, c.k}, ref.Conv2DBackwardWeight(x64, c.xs, dy64, ys, c.k, c.st),
					func(s *engine.Sequence, dw *engine.Tensor, tile ops.GEMMTile, sc *engine.Tensor) {
						ops.Conv2DBackwardWeightGEMM(s, dw, x, dy, c.st, tile, sc)
					}},
			})
		})
	}
}

// TestGEMMPointwiseFiniteDifferences checks a few gradient elements of the
// GEMM backward passes (one tile whole, one split) against central
// differences of the GEMM forward: L = sum(y * g), dL/dx = W^T g, dL/dW =
// g x^T.
func TestGEMMPointwiseFiniteDifferences(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const n, c, oc, h, wd = 2, 6, 5, 3, 3
	_, x32 := randSlice(r, n*c*h*wd)
	_, w32 := randSlice(r, oc*c)
	g64, g32 := randSlice(r, n*oc*h*wd)
	x := upload(t, d, "x", x32, n, c, h, wd)
	w := upload(t, d, "w", w32, oc, c, 1, 1)
	g := upload(t, d, "g", g32, n, oc, h, wd)
	y := poisoned(t, d, "y", n, oc, h, wd)
	tiles := ops.GEMMTiles(d)
	for _, tile := range []ops.GEMMTile{tiles[0], tiles[len(tiles)-1].WithSplitK(2)} {
		dx := poisoned(t, d, "dx", n, c, h, wd)
		dw := poisoned(t, d, "dw", oc, c, 1, 1)
		var scratch *engine.Tensor
		if k := ops.GEMMScratchLen(tile, dx.Len()); k > 0 {
			scratch = poisoned(t, d, "scratch", k)
		}
		run(t, d, func(s *engine.Sequence) {
			ops.PointwiseBackwardDataGEMM(s, dx, g, w, tile, scratch)
			ops.PointwiseBackwardWeightGEMM(s, dw, x, g, tile, scratch)
		})
		gotDx, gotDw := download(t, dx), download(t, dw)
		fwd, err := d.NewSequence("forward", engine.SequenceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ops.PointwiseForwardGEMM(fwd, y, x, w, tile, scratch)
		loss := func() float64 {
			if err := d.Run(fwd); err != nil {
				t.Fatal(err)
			}
			sum := 0.0
			for i, v := range download(t, y) {
				sum += v * g64[i]
			}
			return sum
		}
		const step = 1e-2
		probe := func(what string, param *engine.Tensor, vals []float32, i int, analytic float64) {
			t.Helper()
			num := centralDifference(t, loss, param, vals, i, step)
			if err := enginetest.WithinRel(num, analytic, 2e-3, 1); err != nil {
				t.Errorf("tile %s: %s[%d]: finite difference against backward: %v", tile, what, i, err)
			}
		}
		for range 3 {
			i := r.IntN(len(x32))
			probe("dx", x, x32, i, gotDx[i])
			j := r.IntN(len(w32))
			probe("dw", w, w32, j, gotDw[j])
		}
		fwd.Release()
	}
}

// TestGEMMTiles checks the eligible-tile list against the device's limits:
// every listed tile fits them, and a tile over them is refused with an
// error that names the limit.
func TestGEMMTiles(t *testing.T) {
	d := enginetest.Open(t)
	tiles := ops.GEMMTiles(d)
	if len(tiles) == 0 {
		t.Fatal("no GEMM tile fits the device")
	}
	for _, tile := range tiles {
		if tile.SharedBytes() > int(d.Info.MaxSharedMemory) || tile.Invocations() > int(d.Info.MaxWorkgroupInvocation) {
			t.Errorf("tile %s (%d bytes, %d invocations) listed over the device's %d bytes, %d invocations",
				tile, tile.SharedBytes(), tile.Invocations(), d.Info.MaxSharedMemory, d.Info.MaxWorkgroupInvocation)
		}
	}
	// BK grown until the shared memory no longer fits; workgroups past the limit.
	big := ops.GEMMTile{BM: 128, BN: 128, BK: 16, TM: 8, TN: 8, SplitK: 1}
	for big.SharedBytes() <= int(d.Info.MaxSharedMemory) {
		big.BK *= 2
	}
	wide := ops.GEMMTile{BM: 128, BN: 128, BK: 4, TM: 4, TN: 4, SplitK: 1}
	for wide.Invocations() <= int(d.Info.MaxWorkgroupInvocation) {
		wide.BN *= 2
	}
	for _, tile := range tiles {
		if tile == big || tile == wide {
			t.Errorf("tile %s is over the device's limits but listed", tile)
		}
	}
	x, w, y := poisoned(t, d, "x", 2, 40), poisoned(t, d, "w", 4, 40), poisoned(t, d, "y", 2, 4)
	wantRecordErrors(t, d, []errorCase{
		{"shared memory", func(s *engine.Sequence) { ops.LinearForwardGEMM(s, y, x, w, nil, big, nil) }, "bytes of shared memory, the device has"},
		{"invocations", func(s *engine.Sequence) { ops.LinearForwardGEMM(s, y, x, w, nil, wide, nil) }, "invocations per workgroup, the device allows"},
		{"malformed", func(s *engine.Sequence) {
			ops.LinearForwardGEMM(s, y, x, w, nil, ops.GEMMTile{BM: 32, BN: 32, BK: 8, TM: 3, TN: 4}, nil)
		}, "is malformed"},
		{"no scratch", func(s *engine.Sequence) { ops.LinearForwardGEMM(s, y, x, w, nil, tiles[0].WithSplitK(2), nil) }, "needs a float32 scratch tensor of at least 16 elements"},
		{"small scratch", func(s *engine.Sequence) {
			ops.LinearForwardGEMM(s, y, x, w, nil, tiles[0].WithSplitK(2), poisoned(t, d, "sc", 15))
		}, "needs a float32 scratch tensor of at least 16 elements"},
		{"linear shapes", func(s *engine.Sequence) {
			ops.LinearForwardGEMM(s, y, poisoned(t, d, "x7", 2, 7), w, nil, tiles[0], nil)
		}, "In 7 vs 40"},
		{"pointwise shapes", func(s *engine.Sequence) {
			ops.PointwiseForwardGEMM(s, poisoned(t, d, "y4", 1, 4, 2, 2), poisoned(t, d, "x4", 1, 3, 2, 2), poisoned(t, d, "w4", 4, 8, 1, 1), tiles[0], nil)
		}, "want [OC,3,1,1]"},
	})
	if !strings.Contains(tiles[0].WithSplitK(2).String(), "/k2") {
		t.Errorf("tile name %q does not show its split", tiles[0].WithSplitK(2))
	}
}

// BenchmarkGEMMTiles times every GEMM-family twin of the linear, 1x1 and
// 3x3 `bench ops` rows with every eligible tile, the reduction whole and split
// in 4 (and in 2 and 8 for the linears): `go test -run '^$' -bench GEMMTiles
// -benchtime 5x ./ops` (filter with -bench 'GEMMTiles/linear_1280'; the
// 3x3 rows take seconds per run on lavapipe).
func BenchmarkGEMMTiles(b *testing.B) {
	d := enginetest.Open(b)
	for _, row := range ops.GEMMBenchRows() {
		for _, tile := range ops.GEMMTiles(d) {
			splits := []int{1, 4}
			if strings.HasPrefix(row, "linear") {
				splits = []int{1, 2, 4, 8}
			}
			for _, split := range splits {
				bc, err := ops.GEMMBenchCase(row, tile.WithSplitK(split))
				if err != nil {
					b.Fatal(err)
				}
				b.Run(bc.Name, func(b *testing.B) { benchCase(b, d, bc) })
			}
		}
	}
}
