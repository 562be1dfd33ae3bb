package ref

import "testing"

// Depthwise equals a groups-1 convolution whose weight is zero between
// different channels.
func TestDepthwiseForwardMatchesBlockDiagonalConv(t *testing.T) {
	for _, c := range convCases(21) {
		t.Run(c.String(), func(t *testing.T) {
			rng := newRand(22)
			ch, k := c.xs.C, c.k
			x := randSlice(rng, c.xs.Len())
			w := randSlice(rng, ch*k*k)
			full := make([]float64, ch*ch*k*k)
			for o := range ch {
				copy(full[(o*ch+o)*k*k:(o*ch+o+1)*k*k], w[o*k*k:(o+1)*k*k])
			}
			got, gs := DepthwiseForward(x, c.xs, w, k, c.st)
			want, ws := Conv2DForward(x, c.xs, full, ch, k, c.st)
			if gs != ws {
				t.Fatalf("shape %v, want %v", gs, ws)
			}
			assertClose(t, "y", got, want, 1e-13)
		})
	}
}

func TestDepthwiseGradients(t *testing.T) {
	for _, c := range convCases(31) {
		t.Run(c.String(), func(t *testing.T) {
			rng := newRand(32)
			x := randSlice(rng, c.xs.Len())
			w := randSlice(rng, c.xs.C*c.k*c.k)
			_, ys := DepthwiseForward(x, c.xs, w, c.k, c.st)
			r := randSlice(rng, ys.Len())
			loss := func() float64 {
				y, _ := DepthwiseForward(x, c.xs, w, c.k, c.st)
				return dot(r, y)
			}
			checkGradient(t, "dx", x, DepthwiseBackwardData(r, ys, w, c.xs, c.k, c.st), loss)
			checkGradient(t, "dw", w, DepthwiseBackwardWeight(x, c.xs, r, ys, c.k, c.st), loss)
		})
	}
}
