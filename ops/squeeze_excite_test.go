package ops_test

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// seShapes are the plane shapes of the squeeze-excite tests: odd sizes,
// batch 1, H*W = 1, rows that straddle texels, long rows (several lanes per
// row) and EfficientNetV2-S's SE and head shapes at 128x128, batch 2.
func seShapes(r *rand.Rand) []ref.Shape4 {
	odd := func(lo, hi int) int { return lo + 2*r.IntN((hi-lo)/2+1) }
	return []ref.Shape4{
		{N: 1, C: 1, H: 1, W: 1},
		{N: 3, C: 5, H: 1, W: 1},
		{N: 1, C: odd(3, 11), H: odd(3, 9), W: odd(3, 9)},
		{N: 2, C: odd(5, 15), H: 17, W: 17},
		{N: 3, C: 6, H: 2, W: 2},
		{N: 2, C: 7, H: 32, W: 33},
		{N: 2, C: 256, H: 8, W: 8},
		{N: 2, C: 960, H: 4, W: 4},
		{N: 1, C: 1280, H: 4, W: 4},
	}
}

func TestGlobalAvgPool(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, xs := range seShapes(r) {
		t.Run(xs.String(), func(t *testing.T) {
			x64, x32 := randSlice(r, xs.Len())
			dy64, dy32 := randSlice(r, xs.N*xs.C)
			x := upload(t, d, "x", x32, xs.N, xs.C, xs.H, xs.W)
			dy := upload(t, d, "dy", dy32, xs.N, xs.C)
			y := poisoned(t, d, "y", xs.N, xs.C)
			dx := poisoned(t, d, "dx", xs.N, xs.C, xs.H, xs.W)
			run(t, d, func(s *engine.Sequence) {
				ops.GlobalAvgPoolForward(s, y, x)
				ops.GlobalAvgPoolBackward(s, dx, dy)
			})
			first := download(t, y)
			compare(t, "forward", first, ref.GlobalAvgPoolForward(x64, xs), 1e-5)
			compare(t, "backward", download(t, dx), ref.GlobalAvgPoolBackward(dy64, xs), 1e-4)
			run(t, d, func(s *engine.Sequence) { ops.GlobalAvgPoolForward(s, y, x) })
			sameBits(t, "forward", first, download(t, y))
		})
	}
}

func TestChannelScale(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, xs := range seShapes(r) {
		t.Run(xs.String(), func(t *testing.T) {
			x64, x32 := randSlice(r, xs.Len())
			dy64, dy32 := randSlice(r, xs.Len())
			sc64, sc32 := randSlice(r, xs.N*xs.C)
			x := upload(t, d, "x", x32, xs.N, xs.C, xs.H, xs.W)
			dy := upload(t, d, "dy", dy32, xs.N, xs.C, xs.H, xs.W)
			sc := upload(t, d, "sc", sc32, xs.N, xs.C, 1, 1) // the [N,C,1,1] form
			y := poisoned(t, d, "y", xs.N, xs.C, xs.H, xs.W)
			dx := poisoned(t, d, "dx", xs.N, xs.C, xs.H, xs.W)
			dsc := poisoned(t, d, "dsc", xs.N, xs.C)
			run(t, d, func(s *engine.Sequence) {
				ops.ChannelScaleForward(s, y, x, sc)
				ops.ChannelScaleBackward(s, dx, dsc, dy, x, sc)
			})
			compare(t, "forward", download(t, y), ref.ChannelScaleForward(x64, xs, sc64), 1e-5)
			wantDx, wantDsc := ref.ChannelScaleBackward(dy64, x64, xs, sc64)
			compare(t, "dx", download(t, dx), wantDx, 1e-4)
			first := download(t, dsc)
			compare(t, "dsc", first, wantDsc, 1e-4)
			run(t, d, func(s *engine.Sequence) { ops.ChannelScaleBackward(s, dx, dsc, dy, x, sc) })
			sameBits(t, "dsc", first, download(t, dsc))
		})
	}
}

// TestChannelScaleFiniteDifference checks dsc of a few gates against central
// differences of loss = sum(y * g) through the device forward (float32,
// hence the loose tolerance).
func TestChannelScaleFiniteDifference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	xs := ref.Shape4{N: 2, C: 3, H: 5, W: 3}
	_, x32 := randSlice(r, xs.Len())
	_, g32 := randSlice(r, xs.Len())
	_, sc32 := randSlice(r, xs.N*xs.C)
	x := upload(t, d, "x", x32, xs.N, xs.C, xs.H, xs.W)
	g := upload(t, d, "g", g32, xs.N, xs.C, xs.H, xs.W)
	sc := upload(t, d, "sc", sc32, xs.N, xs.C)
	y := poisoned(t, d, "y", xs.N, xs.C, xs.H, xs.W)
	dx := poisoned(t, d, "dx", xs.N, xs.C, xs.H, xs.W)
	dsc := poisoned(t, d, "dsc", xs.N, xs.C)
	run(t, d, func(s *engine.Sequence) { ops.ChannelScaleBackward(s, dx, dsc, g, x, sc) })
	analytic := download(t, dsc)
	lossAt := func(v []float32) float64 {
		if err := sc.Upload(v); err != nil {
			t.Fatal(err)
		}
		run(t, d, func(s *engine.Sequence) { ops.ChannelScaleForward(s, y, x, sc) })
		total := 0.0
		for i, yi := range download(t, y) {
			total += yi * float64(g32[i])
		}
		return total
	}
	const h = 1e-2
	for _, i := range []int{0, 4} {
		v := append([]float32(nil), sc32...)
		v[i] = sc32[i] + h
		plus := lossAt(v)
		v[i] = sc32[i] - h
		minus := lossAt(v)
		fd := (plus - minus) / (2 * h)
		if err := closeTo([]float64{analytic[i]}, []float64{fd}, 1e-2); err != nil {
			t.Errorf("dsc[%d]: %v", i, err)
		}
	}
}

func TestLinear(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	cases := []struct {
		n, in, out int
		bias, conv bool // conv: weight as [Out,In,1,1]
	}{
		{1, 1, 1, true, false},
		{1, 7, 5, true, false},
		{3, 13, 6, false, true},
		{2, 4 * (2 + r.IntN(20)), 1 + r.IntN(40), true, false},
		{8, 768, 32, true, true}, // SE reduce (the bench's shape)
		{8, 32, 768, true, true}, // SE expand
		{2, 1280, 1000, true, false},
		{3, 1280, 10, true, false},
		{5, 12, 7, false, false}, // two row tiles, the second partial
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%d->%d", c.n, c.in, c.out), func(t *testing.T) {
			x64, x32 := randSlice(r, c.n*c.in)
			w64, w32 := randSlice(r, c.out*c.in)
			b64, b32 := randSlice(r, c.out)
			dy64, dy32 := randSlice(r, c.n*c.out)
			x := upload(t, d, "x", x32, c.n, c.in)
			wShape := []int{c.out, c.in}
			if c.conv {
				wShape = append(wShape, 1, 1)
			}
			w := upload(t, d, "w", w32, wShape...)
			var b *engine.Tensor
			if c.bias {
				b = upload(t, d, "b", b32, c.out)
			} else {
				b64 = nil
			}
			dy := upload(t, d, "dy", dy32, c.n, c.out)
			y := poisoned(t, d, "y", c.n, c.out)
			dx := poisoned(t, d, "dx", c.n, c.in)
			dw := poisoned(t, d, "dw", wShape...)
			db := poisoned(t, d, "db", c.out)
			run(t, d, func(s *engine.Sequence) {
				ops.LinearForward(s, y, x, w, b)
				ops.LinearBackward(s, dx, dw, db, dy, x, w)
			})
			first := download(t, y)
			compare(t, "forward", first, ref.LinearForward(x64, c.n, c.in, w64, b64, c.out), 1e-5)
			wantDx, wantDw, wantDb := ref.LinearBackward(dy64, x64, c.n, c.in, w64, c.out)
			compare(t, "dx", download(t, dx), wantDx, 1e-4)
			compare(t, "dw", download(t, dw), wantDw, 1e-4)
			compare(t, "db", download(t, db), wantDb, 1e-4)
			// Optional gradients left out; the same bits again.
			dw2 := poisoned(t, d, "dw2", wShape...)
			run(t, d, func(s *engine.Sequence) {
				ops.LinearForward(s, y, x, w, b)
				ops.LinearBackward(s, nil, dw2, nil, dy, x, w)
			})
			sameBits(t, "forward", first, download(t, y))
			compare(t, "dw without dx, db", download(t, dw2), wantDw, 1e-4)
		})
	}
}

func TestSqueezeExciteShapeErrors(t *testing.T) {
	d := enginetest.Open(t)
	f := func(name string, shape ...int) *engine.Tensor { return poisoned(t, d, name, shape...) }
	ints := func(shape ...int) *engine.Tensor { return newTensor(t, d, engine.Int32, shape...) }
	x, y, sc := f("x", 2, 3, 4, 4), f("y", 2, 3, 4, 4), f("sc", 2, 3)
	lx, lw, ly := f("lx", 2, 6), f("lw", 5, 6), f("ly", 2, 5)
	wantRecordErrors(t, d, []errorCase{
		{"pool y shape", func(s *engine.Sequence) { ops.GlobalAvgPoolForward(s, f("y24", 2, 4), x) }, "global avg pool forward: y y24 float32[2 4] does not match shape [2 3]"},
		{"pool x 3-D", func(s *engine.Sequence) { ops.GlobalAvgPoolForward(s, sc, f("x3", 2, 3, 4)) }, "global avg pool forward: x3 float32[2 3 4] must be 4-D"},
		{"pool int x", func(s *engine.Sequence) { ops.GlobalAvgPoolForward(s, sc, ints(2, 3, 4, 4)) }, "global avg pool forward: x t int32[2 3 4 4] must hold float32"},
		{"pool y 3-D", func(s *engine.Sequence) { ops.GlobalAvgPoolForward(s, f("y231", 2, 3, 1), x) }, "global avg pool forward: y y231 float32[2 3 1] must be [rows, cols]"},
		{"pool backward dy", func(s *engine.Sequence) { ops.GlobalAvgPoolBackward(s, x, f("dy32", 3, 2)) }, "global avg pool backward: dy dy32 float32[3 2] does not match"},
		{"scale y shape", func(s *engine.Sequence) { ops.ChannelScaleForward(s, f("y45", 2, 3, 4, 5), x, sc) }, "channel scale forward: y y45 float32[2 3 4 5] does not match"},
		{"scale int y", func(s *engine.Sequence) { ops.ChannelScaleForward(s, ints(2, 3, 4, 4), x, sc) }, "channel scale forward: y t int32[2 3 4 4] must hold float32"},
		{"scale sc shape", func(s *engine.Sequence) { ops.ChannelScaleForward(s, y, x, f("sc32", 3, 2)) }, "channel scale forward: sc sc32 float32[3 2] does not match"},
		{"scale dsc shape", func(s *engine.Sequence) { ops.ChannelScaleBackward(s, y, f("dsc", 3, 2), x, x, sc) }, "channel scale backward: dsc dsc float32[3 2] does not match"},
		{"scale dx shape", func(s *engine.Sequence) { ops.ChannelScaleBackward(s, f("dx", 2, 3, 4, 5), f("dsc", 2, 3), y, x, sc) }, "channel scale backward: dx dx float32[2 3 4 5] does not match"},
		{"scale int dy", func(s *engine.Sequence) {
			ops.ChannelScaleBackward(s, f("dx", 2, 3, 4, 4), f("dsc", 2, 3), ints(2, 3, 4, 4), x, sc)
		}, "channel scale backward: dy t int32[2 3 4 4] must hold float32"},
		{"linear in", func(s *engine.Sequence) { ops.LinearForward(s, ly, f("x7", 2, 7), lw, nil) }, "linear forward: input x7 float32[2 7] does not match weight lw float32[5 6] (In 7 vs 6)"},
		{"linear 3-D w", func(s *engine.Sequence) { ops.LinearForward(s, ly, lx, f("w3", 5, 6, 2), nil) }, "linear forward: w w3 float32[5 6 2] must be [rows, cols]"},
		{"linear y", func(s *engine.Sequence) { ops.LinearForward(s, f("y4", 2, 4), lx, lw, nil) }, "linear forward: y y4 float32[2 4] does not match shape [2 5]"},
		{"linear bias", func(s *engine.Sequence) { ops.LinearForward(s, ly, lx, lw, f("b4", 4)) }, "linear forward: b b4 float32[4] does not match shape [5]"},
		{"linear int bias", func(s *engine.Sequence) { ops.LinearForward(s, ly, lx, lw, ints(5)) }, "linear forward: b t int32[5] must hold float32"},
		{"linear backward in", func(s *engine.Sequence) { ops.LinearBackward(s, nil, lw, nil, ly, f("x7", 2, 7), lw) }, "linear backward: input x7 float32[2 7] does not match weight"},
		{"linear dw", func(s *engine.Sequence) { ops.LinearBackward(s, nil, f("dw65", 6, 5), nil, ly, lx, lw) }, "linear backward: dw dw65 float32[6 5] does not match shape [5 6]"},
		{"linear dy", func(s *engine.Sequence) { ops.LinearBackward(s, nil, f("dw", 5, 6), nil, f("dy", 2, 4), lx, lw) }, "linear backward: dy dy float32[2 4] does not match shape [2 5]"},
		{"linear dx", func(s *engine.Sequence) { ops.LinearBackward(s, f("dx", 2, 5), f("dw", 5, 6), nil, ly, lx, lw) }, "linear backward: dx dx float32[2 5] does not match shape [2 6]"},
		{"linear db", func(s *engine.Sequence) { ops.LinearBackward(s, nil, f("dw", 5, 6), f("db", 6), ly, lx, lw) }, "linear backward: db db float32[6] does not match shape [5]"},
		{"linear 3-D x", func(s *engine.Sequence) { ops.LinearBackward(s, nil, f("dw", 5, 6), nil, ly, f("x3", 2, 6, 2), lw) }, "linear backward: x x3 float32[2 6 2] must be [rows, cols]"},
	})
}
