package ops_test

import (
	"fmt"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// TestLinearColumnsMatchesTile: the one-dispatch backward ("columns", and
// "columns_wide" where In is a multiple of 8 and the device has
// shaderInt64) sums every element in the order of the batch-tile kernels
// (tile_ot8), so dx, dw and db are the same bits, with and without the
// bias gradient, in one dispatch: batches of one row to a full tile, texel
// counts that leave a workgroup partly idle, Out not a multiple of 8.
func TestLinearColumnsMatchesTile(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	tile := min(8, int(d.Info.SubgroupSize)) // the batch rows a cluster holds
	for _, c := range []struct{ n, in, out int }{
		{n: tile, in: 24, out: 12}, // a full tile
		{n: 3, in: 36, out: 20},    // rows past the batch, 9 texels
		{n: 1, in: 8, out: 8},
		{n: tile - 1, in: 64, out: 28},
		{n: tile, in: 200, out: 16}, // 25 pairs of texels: wide workgroups partly idle
	} {
		_, x32 := randSlice(r, c.n*c.in)
		_, w32 := randSlice(r, c.out*c.in)
		_, dy32 := randSlice(r, c.n*c.out)
		x, w, dy := upload(t, d, "x", x32, c.n, c.in), upload(t, d, "w", w32, c.out, c.in), upload(t, d, "dy", dy32, c.n, c.out)
		lb := forcedLinearBackward{n: c.n, in: c.in, out: c.out, x: x, w: w, dy: dy}
		dxTile, dwTile, dbTile, _ := lb.run(t, d, "tile_ot8", true)
		dx, dw, db, dispatches := lb.run(t, d, "columns", true)
		dxPlain, dwPlain, _, plain := lb.run(t, d, "columns", false)
		if dispatches != 1 || plain != 1 {
			t.Errorf("%+v: columns took %d dispatches with db, %d without; want 1", c, dispatches, plain)
		}
		what := fmt.Sprintf("%+v columns", c)
		sameBits(t, what+" dx", dx, dxTile)
		sameBits(t, what+" dw", dw, dwTile)
		sameBits(t, what+" db", db, dbTile)
		sameBits(t, what+" dx without db", dxPlain, dxTile)
		sameBits(t, what+" dw without db", dwPlain, dwTile)
		if !d.Info.Int64 || c.in%8 != 0 {
			continue // columns_wide needs shaderInt64 and whole pairs of texels
		}
		dx, dw, db, dispatches = lb.run(t, d, "columns_wide", true)
		dxPlain, dwPlain, _, plain = lb.run(t, d, "columns_wide", false)
		if dispatches != 1 || plain != 1 {
			t.Errorf("%+v: columns_wide took %d dispatches with db, %d without; want 1", c, dispatches, plain)
		}
		what = fmt.Sprintf("%+v columns_wide", c)
		sameBits(t, what+" dx", dx, dxTile)
		sameBits(t, what+" dw", dw, dwTile)
		sameBits(t, what+" db", db, dbTile)
		sameBits(t, what+" dx without db", dxPlain, dxTile)
		sameBits(t, what+" dw without db", dwPlain, dwTile)
	}
}
