package ops

import "testing"

// TestLeastPadding checks the choice of the pointwise kernels' reduction
// chunk and row tiles: the largest size among those that pad least.
func TestLeastPadding(t *testing.T) {
	for _, c := range []struct {
		n     int
		sizes []int
		want  int
	}{
		{8, pointwiseChunks, 8},
		{16, pointwiseChunks, 16},
		{48, pointwiseChunks, 24},
		{64, pointwiseChunks, 32},
		{192, pointwiseChunks, 32},
		{3, pointwiseChunks, 8},
		{48, pointwiseCPUChunks, 8},
		{192, pointwiseCPUChunks, 8},
		{20, pointwiseCPUChunks, 4},
		{13, pointwiseCPUChunks, 8},
		{3, pointwiseCPUChunks, 4},
	} {
		if got := leastPadding(c.n, c.sizes); got != c.want {
			t.Errorf("leastPadding(%d, %v) = %d, want %d", c.n, c.sizes, got, c.want)
		}
	}
}

// TestRowTiles checks the row tiles per workgroup picked for a number of
// 8-row tiles.
func TestRowTiles(t *testing.T) {
	for _, c := range []struct{ tiles, want int }{
		{1, 1}, {2, 2}, {3, 3}, {4, 4}, {5, 3}, {6, 3}, {8, 4}, {16, 4}, {24, 4}, {160, 4},
	} {
		if got := rowTiles(c.tiles); got != c.want {
			t.Errorf("rowTiles(%d) = %d, want %d", c.tiles, got, c.want)
		}
	}
}
