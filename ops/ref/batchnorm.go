package ref

import (
	"fmt"
	"math"
)

// BatchNormTrainForward is 2-D batch normalization in training mode, over
// the M = N*H*W values of each channel c:
//
//	mean[c]   = (1/M) sum_{n,h,w} x[n,c,h,w]
//	var[c]    = (1/M) sum_{n,h,w} (x[n,c,h,w] - mean[c])^2      (biased)
//	invstd[c] = 1 / sqrt(var[c] + eps)
//	y[n,c,h,w] = gamma[c] * (x[n,c,h,w] - mean[c]) * invstd[c] + beta[c]
//
// x is [N,C,H,W] (xs), gamma and beta are [C]. It returns new slices y (shape
// xs), mean, biased var and invstd ([C] each); BatchNormBackward needs mean
// and invstd, BatchNormUpdateRunning needs mean and var. The variance is
// computed in two passes (mean first), as a kernel should.
func BatchNormTrainForward(x []float64, xs Shape4, gamma, beta []float64, eps float64) (y, mean, biasedVar, invstd []float64) {
	const op = "batch norm train forward"
	mustLen(op, "x", len(x), xs.Len())
	mustLen(op, "gamma", len(gamma), xs.C)
	mustLen(op, "beta", len(beta), xs.C)
	m := float64(xs.N * xs.H * xs.W)
	y = make([]float64, xs.Len())
	mean = make([]float64, xs.C)
	biasedVar = make([]float64, xs.C)
	invstd = make([]float64, xs.C)
	for c := range xs.C {
		sum := 0.0
		for n := range xs.N {
			for h := range xs.H {
				for w := range xs.W {
					sum += x[xs.Index(n, c, h, w)]
				}
			}
		}
		mean[c] = sum / m
		sq := 0.0
		for n := range xs.N {
			for h := range xs.H {
				for w := range xs.W {
					d := x[xs.Index(n, c, h, w)] - mean[c]
					sq += d * d
				}
			}
		}
		biasedVar[c] = sq / m
		invstd[c] = 1 / math.Sqrt(biasedVar[c]+eps)
		for n := range xs.N {
			for h := range xs.H {
				for w := range xs.W {
					i := xs.Index(n, c, h, w)
					y[i] = gamma[c]*(x[i]-mean[c])*invstd[c] + beta[c]
				}
			}
		}
	}
	return y, mean, biasedVar, invstd
}

// BatchNormUpdateRunning updates the running statistics IN PLACE after a
// training step, in PyTorch's convention (momentum m, e.g. 0.1; TF's 0.99 is
// m = 0.01):
//
//	runMean[c] = (1-m) * runMean[c] + m * mean[c]
//	runVar[c]  = (1-m) * runVar[c]  + m * biasedVar[c] * count/(count-1)
//
// The running variance takes the UNBIASED batch variance. count is the
// number of values per channel, N*H*W; it must be at least 2 (PyTorch refuses
// training batch norm with one value per channel too).
func BatchNormUpdateRunning(runMean, runVar, mean, biasedVar []float64, count int, momentum float64) {
	const op = "batch norm update running"
	c := len(runMean)
	mustLen(op, "runVar", len(runVar), c)
	mustLen(op, "mean", len(mean), c)
	mustLen(op, "biasedVar", len(biasedVar), c)
	if count < 2 {
		panic(fmt.Sprintf("ref: %s: count %d: the unbiased variance needs at least 2 values per channel", op, count))
	}
	correction := float64(count) / float64(count-1)
	for i := range c {
		runMean[i] = (1-momentum)*runMean[i] + momentum*mean[i]
		runVar[i] = (1-momentum)*runVar[i] + momentum*biasedVar[i]*correction
	}
}

// BatchNormEvalForward is 2-D batch normalization in evaluation mode, with
// the running statistics:
//
//	y[n,c,h,w] = gamma[c] * (x[n,c,h,w] - runMean[c]) / sqrt(runVar[c] + eps) + beta[c]
//
// x is [N,C,H,W] (xs), the other arguments [C]. y is new, of shape xs.
func BatchNormEvalForward(x []float64, xs Shape4, gamma, beta, runMean, runVar []float64, eps float64) []float64 {
	const op = "batch norm eval forward"
	mustLen(op, "x", len(x), xs.Len())
	for _, a := range []struct {
		name string
		v    []float64
	}{{"gamma", gamma}, {"beta", beta}, {"runMean", runMean}, {"runVar", runVar}} {
		mustLen(op, a.name, len(a.v), xs.C)
	}
	y := make([]float64, xs.Len())
	for n := range xs.N {
		for c := range xs.C {
			scale := gamma[c] / math.Sqrt(runVar[c]+eps)
			for h := range xs.H {
				for w := range xs.W {
					i := xs.Index(n, c, h, w)
					y[i] = (x[i]-runMean[c])*scale + beta[c]
				}
			}
		}
	}
	return y
}

// BatchNormBackward is the gradient of BatchNormTrainForward, with
// xhat = (x - mean[c]) * invstd[c] and M = N*H*W:
//
//	dbeta[c]  = sum_{n,h,w} dy[n,c,h,w]
//	dgamma[c] = sum_{n,h,w} dy[n,c,h,w] * xhat[n,c,h,w]
//	dx[n,c,h,w] = gamma[c] * invstd[c] * (dy - dbeta[c]/M - xhat * dgamma[c]/M)
//
// dy and x are [N,C,H,W] (xs); gamma, mean and invstd are [C] (mean and invstd
// as saved by the forward). All three results are new slices (overwritten,
// not accumulated).
func BatchNormBackward(dy, x []float64, xs Shape4, gamma, mean, invstd []float64) (dx, dgamma, dbeta []float64) {
	const op = "batch norm backward"
	mustLen(op, "dy", len(dy), xs.Len())
	mustLen(op, "x", len(x), xs.Len())
	mustLen(op, "gamma", len(gamma), xs.C)
	mustLen(op, "mean", len(mean), xs.C)
	mustLen(op, "invstd", len(invstd), xs.C)
	m := float64(xs.N * xs.H * xs.W)
	dx = make([]float64, xs.Len())
	dgamma = make([]float64, xs.C)
	dbeta = make([]float64, xs.C)
	for c := range xs.C {
		for n := range xs.N {
			for h := range xs.H {
				for w := range xs.W {
					i := xs.Index(n, c, h, w)
					dbeta[c] += dy[i]
					dgamma[c] += dy[i] * (x[i] - mean[c]) * invstd[c]
				}
			}
		}
		for n := range xs.N {
			for h := range xs.H {
				for w := range xs.W {
					i := xs.Index(n, c, h, w)
					xhat := (x[i] - mean[c]) * invstd[c]
					dx[i] = gamma[c] * invstd[c] * (dy[i] - dbeta[c]/m - xhat*dgamma[c]/m)
				}
			}
		}
	}
	return dx, dgamma, dbeta
}
