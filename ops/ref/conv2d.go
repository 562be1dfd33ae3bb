package ref

// Conv2DForward is a 2-D convolution with groups 1, no bias and symmetric
// zero padding p = (k-1)/2; a 1x1 convolution is the k = 1 case:
//
//	y[n,o,i,j] = sum_{c<C, a<k, b<k} x[n,c, i*s+a-p, j*s+b-p] * w[o,c,a,b]
//
// where x outside [0,H)x[0,W) is 0. x is [N,C,H,W] (xs), w is [oc,C,k,k];
// y is a new [N,oc,Ho,Wo] tensor with Ho = (H+2p-k)/s+1 (likewise Wo),
// returned with its shape ys.
func Conv2DForward(x []float64, xs Shape4, w []float64, oc, k, stride int) ([]float64, Shape4) {
	const op = "conv2d forward"
	mustConvGeometry(op, xs, k, stride)
	mustLen(op, "x", len(x), xs.Len())
	mustLen(op, "w", len(w), oc*xs.C*k*k)
	ys := convOutShape(xs, oc, k, stride)
	p := Padding(k)
	y := make([]float64, ys.Len())
	for n := range ys.N {
		for o := range ys.C {
			for i := range ys.H {
				for j := range ys.W {
					sum := 0.0
					for c := range xs.C {
						for a := range k {
							h := i*stride + a - p
							if h < 0 || h >= xs.H {
								continue
							}
							for b := range k {
								v := j*stride + b - p
								if v < 0 || v >= xs.W {
									continue
								}
								sum += x[xs.Index(n, c, h, v)] * w[((o*xs.C+c)*k+a)*k+b]
							}
						}
					}
					y[ys.Index(n, o, i, j)] = sum
				}
			}
		}
	}
	return y, ys
}

// Conv2DBackwardData is the gradient of Conv2DForward's loss with respect to
// its input x:
//
//	dx[n,c,h,v] = sum over (o,i,j,a,b) with i*s+a-p = h and j*s+b-p = v of
//	              dy[n,o,i,j] * w[o,c,a,b]
//
// dy is [N,OC,Ho,Wo] (ys), w is [OC,C,k,k], xs is the forward input's shape
// (needed because stride 2 maps two input sizes to one output size). dx is a
// new tensor of shape xs (overwritten, not accumulated).
func Conv2DBackwardData(dy []float64, ys Shape4, w []float64, xs Shape4, k, stride int) []float64 {
	const op = "conv2d backward data"
	mustConvGeometry(op, xs, k, stride)
	mustLen(op, "dy", len(dy), ys.Len())
	mustShape(op, "dy", ys, convOutShape(xs, ys.C, k, stride))
	mustLen(op, "w", len(w), ys.C*xs.C*k*k)
	p := Padding(k)
	dx := make([]float64, xs.Len())
	for n := range ys.N {
		for o := range ys.C {
			for i := range ys.H {
				for j := range ys.W {
					g := dy[ys.Index(n, o, i, j)]
					for c := range xs.C {
						for a := range k {
							h := i*stride + a - p
							if h < 0 || h >= xs.H {
								continue
							}
							for b := range k {
								v := j*stride + b - p
								if v < 0 || v >= xs.W {
									continue
								}
								dx[xs.Index(n, c, h, v)] += g * w[((o*xs.C+c)*k+a)*k+b]
							}
						}
					}
				}
			}
		}
	}
	return dx
}

// Conv2DBackwardWeight is the gradient of Conv2DForward's loss with respect
// to the weight:
//
//	dw[o,c,a,b] = sum_{n,i,j} dy[n,o,i,j] * x[n,c, i*s+a-p, j*s+b-p]
//
// with x outside the image taken as 0. x is [N,C,H,W] (xs), dy is
// [N,OC,Ho,Wo] (ys). dw is a new [OC,C,k,k] tensor (overwritten, not
// accumulated: a caller summing micro-batches adds it itself).
func Conv2DBackwardWeight(x []float64, xs Shape4, dy []float64, ys Shape4, k, stride int) []float64 {
	const op = "conv2d backward weight"
	mustConvGeometry(op, xs, k, stride)
	mustLen(op, "x", len(x), xs.Len())
	mustLen(op, "dy", len(dy), ys.Len())
	mustShape(op, "dy", ys, convOutShape(xs, ys.C, k, stride))
	p := Padding(k)
	dw := make([]float64, ys.C*xs.C*k*k)
	for o := range ys.C {
		for c := range xs.C {
			for a := range k {
				for b := range k {
					sum := 0.0
					for n := range ys.N {
						for i := range ys.H {
							h := i*stride + a - p
							if h < 0 || h >= xs.H {
								continue
							}
							for j := range ys.W {
								v := j*stride + b - p
								if v < 0 || v >= xs.W {
									continue
								}
								sum += dy[ys.Index(n, o, i, j)] * x[xs.Index(n, c, h, v)]
							}
						}
					}
					dw[((o*xs.C+c)*k+a)*k+b] = sum
				}
			}
		}
	}
	return dw
}
