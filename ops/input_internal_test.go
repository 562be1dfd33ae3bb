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
