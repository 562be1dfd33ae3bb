package ops_test

import (
	"fmt"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
)

// TestLinearWeightOuterMatchesTile: the outer-product weight gradient
// (outer_ch* variants) sums every element in the order of the batch-tile
// kernel (tile_ot8), so dx, dw and db are the same bits, with and without
// the bias gradient, for a batch of one tile, of less, and of more than
// one (the slower path), in two dispatches.
func TestLinearWeightOuterMatchesTile(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, c := range []struct{ n, in, out int }{
		{n: 8, in: 24, out: 12}, // one tile of 8 (two of 4)
		{n: 5, in: 64, out: 20}, // rows past the batch in the tile
		{n: 9, in: 16, out: 8},  // two tiles of 8 (three of 4), the second partial
	} {
		_, x32 := randSlice(r, c.n*c.in)
		_, w32 := randSlice(r, c.out*c.in)
		_, dy32 := randSlice(r, c.n*c.out)
		x, w, dy := upload(t, d, "x", x32, c.n, c.in), upload(t, d, "w", w32, c.out, c.in), upload(t, d, "dy", dy32, c.n, c.out)
		backward := func(variant string, withBias bool) (dx, dw, db []float64) {
			forceTuning(t, "linear_backward", variant)
			dxT, dwT, dbT := poisoned(t, d, "dx", c.n, c.in), poisoned(t, d, "dw", c.out, c.in), poisoned(t, d, "db", c.out)
			if !withBias {
				dbT = nil
			}
			dispatches := 0
			run(t, d, func(s *engine.Sequence) {
				ops.LinearBackward(s, dxT, dwT, dbT, dy, x, w)
				dispatches = s.Dispatches()
			})
			if !forcedUsed(d, "linear_backward", variant) {
				t.Fatalf("%+v: variant %s not used", c, variant)
			}
			if dispatches != 2 {
				t.Errorf("%+v: %s took %d dispatches, want 2", c, variant, dispatches)
			}
			if withBias {
				db = download(t, dbT)
			}
			return download(t, dxT), download(t, dwT), db
		}
		dxTile, dwTile, dbTile := backward("tile_ot8", true)
		for _, ch := range []int{4, 20, 80} {
			v := fmt.Sprintf("outer_ch%d", ch)
			dx, dw, db := backward(v, true)
			sameBits(t, fmt.Sprintf("%+v %s dx", c, v), dx, dxTile)
			sameBits(t, fmt.Sprintf("%+v %s dw", c, v), dw, dwTile)
			sameBits(t, fmt.Sprintf("%+v %s db", c, v), db, dbTile)
			dxPlain, dwPlain, _ := backward(v, false)
			sameBits(t, fmt.Sprintf("%+v %s dx without db", c, v), dxPlain, dxTile)
			sameBits(t, fmt.Sprintf("%+v %s dw without db", c, v), dwPlain, dwTile)
		}
	}
}
