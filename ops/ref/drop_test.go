package ref

import (
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

func TestDropPath(t *testing.T) {
	const keep = 0.8
	xs := Shape4{64, 3, 2, 3}
	rng := newRand(71)
	x := randSlice(rng, xs.Len())
	y := DropPathForward(x, xs, keep, 99, 5, 3)
	per := xs.C * xs.H * xs.W
	kept := 0
	for n := range xs.N {
		keepN := Uniform(99, 5, 3, uint32(n)) < keep
		if keepN {
			kept++
		}
		for i := n * per; i < (n+1)*per; i++ {
			want := 0.0
			if keepN {
				want = x[i] / keep
			}
			if y[i] != want {
				t.Fatalf("sample %d element %d: y = %v, want %v", n, i, y[i], want)
			}
		}
	}
	if kept == 0 || kept == xs.N {
		t.Fatalf("kept %d of %d samples: the mask does not vary", kept, xs.N)
	}
	r := randSlice(rng, xs.Len())
	checkGradient(t, "dx", x, DropPathBackward(r, xs, keep, 99, 5, 3),
		func() float64 { return dot(r, DropPathForward(x, xs, keep, 99, 5, 3)) })
	if got := DropPathForward(x, xs, 1, 99, 5, 3); !equal(got, x) {
		t.Fatal("keep = 1 is not the identity")
	}
}

func TestDropPathKeepRate(t *testing.T) {
	const keep, batch = 0.7, 8192
	kept := 0
	for _, m := range DropPathMask(batch, keep, 3, 1, 2) {
		if m {
			kept++
		}
	}
	// Standard deviation sqrt(0.21/8192) ~ 0.005.
	if err := enginetest.Within(float64(kept)/batch, keep, 0.025); err != nil {
		t.Errorf("kept fraction: %v", err)
	}
}

func TestDropout(t *testing.T) {
	const p, length = 0.3, 4096
	rng := newRand(72)
	x := randSlice(rng, length)
	y := DropoutForward(x, length, p, 7, 2, 11)
	dropped := 0
	for i := range x {
		want := x[i] / (1 - p)
		if Uniform(7, 2, 11, uint32(i)) < p {
			want = 0
			dropped++
		}
		if y[i] != want {
			t.Fatalf("y[%d] = %v, want %v", i, y[i], want)
		}
	}
	if err := enginetest.Within(float64(dropped)/length, p, 0.03); err != nil {
		t.Errorf("dropped fraction: %v", err)
	}
	small := x[:37]
	r := randSlice(rng, len(small))
	checkGradient(t, "dx", small, DropoutBackward(r, len(small), p, 7, 2, 11),
		func() float64 { return dot(r, DropoutForward(small, len(small), p, 7, 2, 11)) })
	if got := DropoutForward(x, length, 0, 7, 2, 11); !equal(got, x) {
		t.Fatal("p = 0 is not the identity")
	}
}

func TestDropPanicsOnBadProbability(t *testing.T) {
	for name, f := range map[string]func(){
		"keep 0":  func() { DropPathForward([]float64{1}, Shape4{1, 1, 1, 1}, 0, 1, 1, 1) },
		"keep >1": func() { DropPathForward([]float64{1}, Shape4{1, 1, 1, 1}, 1.5, 1, 1, 1) },
		"p 1":     func() { DropoutForward([]float64{1}, 1, 1, 1, 1, 1) },
		"p NaN":   func() { DropoutForward([]float64{1}, 1, math.NaN(), 1, 1, 1) },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			f()
		}()
	}
}

// equal reports whether a and b hold exactly the same values.
func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
