package ref

// DepthwiseForward is a depthwise k x k convolution (groups = C, one filter
// per channel, no bias) with stride s and symmetric zero padding
// p = (k-1)/2:
//
//	y[n,c,i,j] = sum_{a<k, b<k} x[n,c, i*s+a-p, j*s+b-p] * w[c,0,a,b]
//
// where x outside [0,H)x[0,W) is 0. x is [N,C,H,W] (xs), w is [C,1,k,k]; y
// is a new [N,C,Ho,Wo] tensor, Ho = (H+2p-k)/s+1 (likewise Wo), returned with
// its shape ys.
func DepthwiseForward(x []float64, xs Shape4, w []float64, k, stride int) ([]float64, Shape4) {
	const op = "depthwise forward"
	mustConvGeometry(op, xs, k, stride)
	mustLen(op, "x", len(x), xs.Len())
	mustLen(op, "w", len(w), xs.C*k*k)
	ys := convOutShape(xs, xs.C, k, stride)
	p := Padding(k)
	y := make([]float64, ys.Len())
	for n := range ys.N {
		for c := range ys.C {
			for i := range ys.H {
				for j := range ys.W {
					sum := 0.0
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
							sum += x[xs.Index(n, c, h, v)] * w[(c*k+a)*k+b]
						}
					}
					y[ys.Index(n, c, i, j)] = sum
				}
			}
		}
	}
	return y, ys
}

// DepthwiseBackwardData is the gradient of DepthwiseForward's loss with
// respect to its input x:
//
//	dx[n,c,h,v] = sum over (i,j,a,b) with i*s+a-p = h and j*s+b-p = v of
//	              dy[n,c,i,j] * w[c,0,a,b]
//
// dy is [N,C,Ho,Wo] (ys), w is [C,1,k,k], xs is the forward input's shape.
// dx is a new tensor of shape xs (overwritten, not accumulated).
func DepthwiseBackwardData(dy []float64, ys Shape4, w []float64, xs Shape4, k, stride int) []float64 {
	const op = "depthwise backward data"
	mustConvGeometry(op, xs, k, stride)
	mustLen(op, "dy", len(dy), ys.Len())
	mustShape(op, "dy", ys, convOutShape(xs, xs.C, k, stride))
	mustLen(op, "w", len(w), xs.C*k*k)
	p := Padding(k)
	dx := make([]float64, xs.Len())
	for n := range ys.N {
		for c := range ys.C {
			for i := range ys.H {
				for j := range ys.W {
					g := dy[ys.Index(n, c, i, j)]
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
							dx[xs.Index(n, c, h, v)] += g * w[(c*k+a)*k+b]
						}
					}
				}
			}
		}
	}
	return dx
}

// DepthwiseBackwardWeight is the gradient of DepthwiseForward's loss with
// respect to the weight:
//
//	dw[c,0,a,b] = sum_{n,i,j} dy[n,c,i,j] * x[n,c, i*s+a-p, j*s+b-p]
//
// with x outside the image taken as 0. x is [N,C,H,W] (xs), dy is
// [N,C,Ho,Wo] (ys). dw is a new [C,1,k,k] tensor (overwritten, not
// accumulated).
func DepthwiseBackwardWeight(x []float64, xs Shape4, dy []float64, ys Shape4, k, stride int) []float64 {
	const op = "depthwise backward weight"
	mustConvGeometry(op, xs, k, stride)
	mustLen(op, "x", len(x), xs.Len())
	mustLen(op, "dy", len(dy), ys.Len())
	mustShape(op, "dy", ys, convOutShape(xs, xs.C, k, stride))
	p := Padding(k)
	dw := make([]float64, xs.C*k*k)
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
							sum += dy[ys.Index(n, c, i, j)] * x[xs.Index(n, c, h, v)]
						}
					}
				}
				dw[(c*k+a)*k+b] = sum
			}
		}
	}
	return dw
}
