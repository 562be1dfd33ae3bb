package ref

import (
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// bnShapes include batch 1, odd spatial sizes, and 1x1 maps (SE-like).
var bnShapes = []Shape4{{1, 3, 5, 7}, {2, 5, 3, 3}, {3, 7, 1, 1}, {2, 4, 2, 3}}

// With gamma 1 and beta 0 each channel of y has mean 0 and variance
// var/(var+eps); the saved statistics are those of x.
func TestBatchNormTrainForwardNormalizes(t *testing.T) {
	const eps = 1e-3
	for _, xs := range bnShapes {
		rng := newRand(41)
		x := randSlice(rng, xs.Len())
		for i := range x {
			x[i] = 3*x[i] + 2
		}
		ones, zeros := make([]float64, xs.C), make([]float64, xs.C)
		for c := range ones {
			ones[c] = 1
		}
		y, mean, variance, invstd := BatchNormTrainForward(x, xs, ones, zeros, eps)
		m := float64(xs.N * xs.H * xs.W)
		for c := range xs.C {
			var sx, sy, syy float64
			for n := range xs.N {
				for h := range xs.H {
					for w := range xs.W {
						i := xs.Index(n, c, h, w)
						sx += x[i]
						sy += y[i]
						syy += y[i] * y[i]
					}
				}
			}
			if !closeTo(mean[c], sx/m, 1e-13, 1e-15) {
				t.Fatalf("%v: mean[%d] = %v, want %v", xs, c, mean[c], sx/m)
			}
			if err := enginetest.Within(sy/m, 0, 1e-12); err != nil {
				t.Fatalf("%v: channel %d of y has mean: %v", xs, c, err)
			}
			if want := variance[c] / (variance[c] + eps); !closeTo(syy/m, want, 1e-12, 1e-15) {
				t.Fatalf("%v: channel %d of y has variance %v, want %v", xs, c, syy/m, want)
			}
			if want := 1 / math.Sqrt(variance[c]+eps); invstd[c] != want {
				t.Fatalf("%v: invstd[%d] = %v, want %v", xs, c, invstd[c], want)
			}
		}
	}
}

func TestBatchNormUpdateRunning(t *testing.T) {
	runMean := []float64{1, -2}
	runVar := []float64{4, 0.5}
	BatchNormUpdateRunning(runMean, runVar, []float64{3, 0}, []float64{2, 1}, 5, 0.1)
	wantMean := []float64{0.9*1 + 0.1*3, 0.9 * -2}
	wantVar := []float64{0.9*4 + 0.1*2*5/4, 0.9*0.5 + 0.1*1*5/4}
	assertClose(t, "runMean", runMean, wantMean, 1e-15)
	assertClose(t, "runVar", runVar, wantVar, 1e-15)
}

// Eval mode with running statistics equal to the batch's biased statistics
// reproduces train mode.
func TestBatchNormEvalMatchesTrainOnBatchStatistics(t *testing.T) {
	const eps = 1e-3
	xs := Shape4{2, 3, 3, 5}
	rng := newRand(42)
	x := randSlice(rng, xs.Len())
	gamma, beta := randSlice(rng, 3), randSlice(rng, 3)
	want, mean, variance, _ := BatchNormTrainForward(x, xs, gamma, beta, eps)
	got := BatchNormEvalForward(x, xs, gamma, beta, mean, variance, eps)
	assertClose(t, "y", got, want, 1e-13)
}

func TestBatchNormGradients(t *testing.T) {
	const eps = 1e-3
	for _, xs := range bnShapes {
		t.Run(xs.String(), func(t *testing.T) {
			rng := newRand(43)
			x := randSlice(rng, xs.Len())
			gamma, beta := randSlice(rng, xs.C), randSlice(rng, xs.C)
			r := randSlice(rng, xs.Len())
			loss := func() float64 {
				y, _, _, _ := BatchNormTrainForward(x, xs, gamma, beta, eps)
				return dot(r, y)
			}
			_, mean, _, invstd := BatchNormTrainForward(x, xs, gamma, beta, eps)
			dx, dgamma, dbeta := BatchNormBackward(r, x, xs, gamma, mean, invstd)
			checkGradient(t, "dx", x, dx, loss)
			checkGradient(t, "dgamma", gamma, dgamma, loss)
			checkGradient(t, "dbeta", beta, dbeta, loss)
		})
	}
}

func TestBatchNormUpdateRunningPanicsOnOneValue(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for count 1")
		}
	}()
	BatchNormUpdateRunning([]float64{0}, []float64{1}, []float64{0}, []float64{0}, 1, 0.1)
}
