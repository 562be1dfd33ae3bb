package ops_test

import (
	"fmt"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// TestLinearSplitMatchesReference: the split backward for GPUs
// ("split_o32": slices of 32 output rows, partial dx sums added by
// gemm_sum) gives dx within float32 rounding of the float64 reference and
// dw and db with the bits of the one-pass "columns", in two dispatches,
// the same bits on a second run: several slices with a partial last one,
// exactly two slices, one row, a batch of one tile, with and without the
// bias gradient.
func TestLinearSplitMatchesReference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	tile := min(8, int(d.Info.SubgroupSize)) // the batch rows a cluster holds
	for _, c := range []struct{ n, in, out int }{
		{n: tile, in: 40, out: 100}, // 4 slices, the last of 4 rows
		{n: 3, in: 36, out: 64},     // exactly 2 slices, 9 texels
		{n: 1, in: 8, out: 200},
	} {
		x64, x32 := randSlice(r, c.n*c.in)
		w64, w32 := randSlice(r, c.out*c.in)
		dy64, dy32 := randSlice(r, c.n*c.out)
		x, w, dy := upload(t, d, "x", x32, c.n, c.in), upload(t, d, "w", w32, c.out, c.in), upload(t, d, "dy", dy32, c.n, c.out)
		lb := forcedLinearBackward{n: c.n, in: c.in, out: c.out, x: x, w: w, dy: dy}
		_, dwColumns, dbColumns, _ := lb.run(t, d, "columns", true)
		dx, dw, db, dispatches := lb.run(t, d, "split_o32", true)
		dxAgain, dwAgain, dbAgain, _ := lb.run(t, d, "split_o32", true)
		dxPlain, dwPlain, _, plain := lb.run(t, d, "split_o32", false)
		if dispatches != 2 || plain != 2 {
			t.Errorf("%+v: split_o32 took %d dispatches with db, %d without; want 2", c, dispatches, plain)
		}
		what := fmt.Sprintf("%+v split_o32", c)
		wantDx, wantDw, wantDb := ref.LinearBackward(dy64, x64, c.n, c.in, w64, c.out)
		compare(t, what+" dx", dx, wantDx, 1e-4)
		compare(t, what+" dw", dw, wantDw, 1e-4)
		compare(t, what+" db", db, wantDb, 1e-4)
		sameBits(t, what+" dw vs columns", dw, dwColumns)
		sameBits(t, what+" db vs columns", db, dbColumns)
		sameBits(t, what+" dx, second run", dxAgain, dx)
		sameBits(t, what+" dw, second run", dwAgain, dw)
		sameBits(t, what+" db, second run", dbAgain, db)
		sameBits(t, what+" dx without db", dxPlain, dx)
		sameBits(t, what+" dw without db", dwPlain, dw)
	}
	enginetest.Check(t, d)
}
