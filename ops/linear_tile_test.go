package ops_test

import (
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
)

// TestLinearTileBiasFusedMatchesUnfused: the batch-tile backward writes
// the bias gradient from its weight-gradient dispatch (one dispatch
// fewer than the row kernels' separate linear_backward_bias) with the same
// bits, and the same dx and dw bits without db as with it.
func TestLinearTileBiasFusedMatchesUnfused(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, c := range []struct{ n, in, out int }{
		{n: 5, in: 64, out: 20},
		{n: 9, in: 8, out: 12}, // two batch tiles of 8 (three of 4), the second partial
	} {
		_, x32 := randSlice(r, c.n*c.in)
		_, w32 := randSlice(r, c.out*c.in)
		_, dy32 := randSlice(r, c.n*c.out)
		x, w, dy := upload(t, d, "x", x32, c.n, c.in), upload(t, d, "w", w32, c.out, c.in), upload(t, d, "dy", dy32, c.n, c.out)
		lb := forcedLinearBackward{n: c.n, in: c.in, out: c.out, x: x, w: w, dy: dy}
		_, _, dbRows, rowsDispatches := lb.run(t, d, "rows", true)
		dx, dw, db, fused := lb.run(t, d, "tile_ot8", true)
		dxPlain, dwPlain, _, plain := lb.run(t, d, "tile_ot8", false)
		if rowsDispatches != 3 || fused != 2 || plain != 2 {
			t.Errorf("%+v: dispatches rows %d, tile with db %d, tile without %d; want 3, 2, 2", c, rowsDispatches, fused, plain)
		}
		for i, v := range db {
			if math.IsNaN(v) {
				t.Fatalf("%+v: db[%d] not written", c, i)
			}
		}
		sameBits(t, "db fused vs linear_backward_bias", db, dbRows)
		sameBits(t, "dx with db vs without", dx, dxPlain)
		sameBits(t, "dw with db vs without", dw, dwPlain)
	}
}

// forcedLinearBackward is one linear backward's inputs: x [n,in], w
// [out,in] and dy [n,out] on the device.
type forcedLinearBackward struct {
	n, in, out int
	x, w, dy   *engine.Tensor
}

// run records ops.LinearBackward with the named variant forced into
// poisoned outputs (db only when withBias), fails the test when the
// variant was not used, and returns dx, dw, db (nil without the bias) and
// the dispatches it took.
func (c forcedLinearBackward) run(t *testing.T, d *engine.Device, variant string, withBias bool) (dx, dw, db []float64, dispatches int) {
	t.Helper()
	forceTuning(t, "linear_backward", variant)
	dxT, dwT, dbT := poisoned(t, d, "dx", c.n, c.in), poisoned(t, d, "dw", c.out, c.in), poisoned(t, d, "db", c.out)
	if !withBias {
		dbT = nil
	}
	run(t, d, func(s *engine.Sequence) {
		ops.LinearBackward(s, dxT, dwT, dbT, c.dy, c.x, c.w)
		dispatches = s.Dispatches()
	})
	if !forcedUsed(d, "linear_backward", variant) {
		t.Fatalf("n=%d in=%d out=%d: variant %s not used", c.n, c.in, c.out, variant)
	}
	if withBias {
		db = download(t, dbT)
	}
	return download(t, dxT), download(t, dwT), db, dispatches
}
