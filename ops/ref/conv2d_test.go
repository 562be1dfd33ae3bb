package ref

import (
	"fmt"
	"testing"
)

// convCase is one convolution geometry under test.
type convCase struct {
	xs        Shape4
	oc, k, st int
}

func (c convCase) String() string { return fmt.Sprintf("x%v_oc%d_k%d_s%d", c.xs, c.oc, c.k, c.st) }

// convCases are fixed geometries (odd sizes, stride 2 over odd inputs, batch
// 1, channel counts 3/5/7) plus a few random ones from a fixed seed.
func convCases(seed uint64) []convCase {
	cases := []convCase{
		{Shape4{1, 3, 7, 5}, 5, 3, 1},
		{Shape4{2, 5, 9, 7}, 3, 3, 2},
		{Shape4{2, 7, 5, 6}, 4, 1, 1},
		{Shape4{1, 3, 7, 7}, 2, 1, 2},
		{Shape4{2, 3, 8, 9}, 3, 5, 2},
		{Shape4{1, 5, 1, 3}, 3, 3, 1},
	}
	rng := newRand(seed)
	for range 3 {
		cases = append(cases, convCase{
			xs: Shape4{1 + rng.IntN(2), 1 + rng.IntN(7), 1 + rng.IntN(9), 1 + rng.IntN(9)},
			oc: 1 + rng.IntN(6), k: []int{1, 3, 5}[rng.IntN(3)], st: 1 + rng.IntN(2),
		})
	}
	return cases
}

func TestConvOutSize(t *testing.T) {
	for _, c := range []struct{ in, k, s, want int }{
		{224, 3, 2, 112}, {7, 3, 2, 4}, {8, 3, 2, 4}, {5, 1, 1, 5}, {5, 1, 2, 3}, {9, 5, 2, 5}, {1, 3, 1, 1},
	} {
		if got := ConvOutSize(c.in, c.k, c.s); got != c.want {
			t.Errorf("ConvOutSize(%d, k=%d, s=%d) = %d, want %d", c.in, c.k, c.s, got, c.want)
		}
	}
}

// A 3x3 kernel with a single 1 at (a,b) shifts the image by (a-1, b-1), with
// zeros flowing in from the padding.
func TestConv2DForwardShiftKernel(t *testing.T) {
	xs := Shape4{1, 1, 4, 5}
	x := make([]float64, xs.Len())
	for i := range x {
		x[i] = float64(i + 1)
	}
	w := make([]float64, 9)
	w[0*3+2] = 1 // a=0, b=2: y[i,j] = x[i-1, j+1]
	y, ys := Conv2DForward(x, xs, w, 1, 3, 1)
	if ys != xs {
		t.Fatalf("shape %v, want %v", ys, xs)
	}
	for i := range 4 {
		for j := range 5 {
			want := 0.0
			if i-1 >= 0 && j+1 < 5 {
				want = x[xs.Index(0, 0, i-1, j+1)]
			}
			if got := y[ys.Index(0, 0, i, j)]; got != want {
				t.Fatalf("y[%d,%d] = %v, want %v", i, j, got, want)
			}
		}
	}
}

// A 1x1 convolution is a matrix product over channels at every pixel; stride
// 2 samples even positions.
func TestConv2DForwardPointwise(t *testing.T) {
	rng := newRand(1)
	xs := Shape4{2, 3, 5, 5}
	x := randSlice(rng, xs.Len())
	w := randSlice(rng, 4*3)
	y, ys := Conv2DForward(x, xs, w, 4, 1, 2)
	if want := (Shape4{2, 4, 3, 3}); ys != want {
		t.Fatalf("shape %v, want %v", ys, want)
	}
	for n := range 2 {
		for o := range 4 {
			for i := range 3 {
				for j := range 3 {
					want := 0.0
					for c := range 3 {
						want += w[o*3+c] * x[xs.Index(n, c, 2*i, 2*j)]
					}
					if got := y[ys.Index(n, o, i, j)]; !closeTo(got, want, 1e-14, 1e-15) {
						t.Fatalf("y[%d,%d,%d,%d] = %v, want %v", n, o, i, j, got, want)
					}
				}
			}
		}
	}
}

func TestConv2DGradients(t *testing.T) {
	for _, c := range convCases(11) {
		t.Run(c.String(), func(t *testing.T) {
			rng := newRand(12)
			x := randSlice(rng, c.xs.Len())
			w := randSlice(rng, c.oc*c.xs.C*c.k*c.k)
			_, ys := Conv2DForward(x, c.xs, w, c.oc, c.k, c.st)
			r := randSlice(rng, ys.Len())
			loss := func() float64 {
				y, _ := Conv2DForward(x, c.xs, w, c.oc, c.k, c.st)
				return dot(r, y)
			}
			checkGradient(t, "dx", x, Conv2DBackwardData(r, ys, w, c.xs, c.k, c.st), loss)
			checkGradient(t, "dw", w, Conv2DBackwardWeight(x, c.xs, r, ys, c.k, c.st), loss)
		})
	}
}

func TestConv2DPanicsOnBadWeight(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for a weight of the wrong size")
		}
	}()
	Conv2DForward(make([]float64, 12), Shape4{1, 3, 2, 2}, make([]float64, 5), 2, 1, 1)
}
