package ops

import "testing"

// TestNarrowUpscale checks which resizes take the _narrow input kernel:
// Fashion-MNIST's 28 -> 128 does, 224 -> 128 and a bare 3x do not.
func TestNarrowUpscale(t *testing.T) {
	for _, c := range []struct {
		w, ow int
		want  bool
	}{{28, 128, true}, {224, 128, false}, {7, 24, true}, {8, 24, false}, {2, 64, false}} {
		if got := narrowUpscale(c.w, c.ow); got != c.want {
			t.Errorf("narrowUpscale(%d, %d) = %v, want %v", c.w, c.ow, got, c.want)
		}
	}
}

// TestPairWindow checks which resizes take the _pairs input kernels:
// 224 -> 128 does, 2x smaller and narrower than 4 columns do not.
func TestPairWindow(t *testing.T) {
	for _, c := range []struct {
		w, ow int
		want  bool
	}{{224, 128, true}, {28, 128, true}, {13, 8, true}, {16, 8, false}, {40, 16, false}, {3, 8, false}} {
		if got := pairWindow(c.w, c.ow); got != c.want {
			t.Errorf("pairWindow(%d, %d) = %v, want %v", c.w, c.ow, got, c.want)
		}
	}
}
