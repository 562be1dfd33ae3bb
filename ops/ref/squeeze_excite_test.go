package ref

import "testing"

func TestGlobalAvgPool(t *testing.T) {
	xs := Shape4{2, 3, 3, 5}
	rng := newRand(61)
	x := randSlice(rng, xs.Len())
	y := GlobalAvgPoolForward(x, xs)
	per := xs.H * xs.W
	for nc := range xs.N * xs.C {
		if want := Mean(x[nc*per : (nc+1)*per]); !closeTo(y[nc], want, 1e-14, 1e-15) {
			t.Fatalf("y[%d] = %v, want %v", nc, y[nc], want)
		}
	}
	r := randSlice(rng, len(y))
	checkGradient(t, "dx", x, GlobalAvgPoolBackward(r, xs), func() float64 { return dot(r, GlobalAvgPoolForward(x, xs)) })
}

func TestLinear(t *testing.T) {
	const n, in, out = 3, 5, 7
	rng := newRand(62)
	x, w, b := randSlice(rng, n*in), randSlice(rng, out*in), randSlice(rng, out)
	y := LinearForward(x, n, in, w, b, out)
	if want := b[2] + dot(x[1*in:2*in], w[2*in:3*in]); !closeTo(y[1*out+2], want, 1e-14, 1e-15) {
		t.Fatalf("y[1,2] = %v, want %v", y[1*out+2], want)
	}
	noBias := LinearForward(x, n, in, w, nil, out)
	if !closeTo(y[4]-noBias[4], b[4], 1e-13, 1e-15) {
		t.Fatalf("bias not added: %v - %v != %v", y[4], noBias[4], b[4])
	}
	r := randSlice(rng, n*out)
	loss := func() float64 { return dot(r, LinearForward(x, n, in, w, b, out)) }
	dx, dw, db := LinearBackward(r, x, n, in, w, out)
	checkGradient(t, "dx", x, dx, loss)
	checkGradient(t, "dw", w, dw, loss)
	checkGradient(t, "db", b, db, loss)
}

func TestChannelScale(t *testing.T) {
	xs := Shape4{2, 5, 3, 1}
	rng := newRand(63)
	x, s := randSlice(rng, xs.Len()), randSlice(rng, xs.N*xs.C)
	y := ChannelScaleForward(x, xs, s)
	if i := xs.Index(1, 3, 2, 0); y[i] != x[i]*s[1*5+3] {
		t.Fatalf("y[1,3,2,0] = %v, want %v", y[i], x[i]*s[8])
	}
	r := randSlice(rng, xs.Len())
	loss := func() float64 { return dot(r, ChannelScaleForward(x, xs, s)) }
	dx, ds := ChannelScaleBackward(r, x, xs, s)
	checkGradient(t, "dx", x, dx, loss)
	checkGradient(t, "ds", s, ds, loss)
}

func TestAddForward(t *testing.T) {
	y := AddForward([]float64{1, 2, 3}, []float64{0.5, -2, 4})
	assertClose(t, "y", y, []float64{1.5, 0, 7}, 0)
}
