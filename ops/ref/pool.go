package ref

// GlobalAvgPoolForward averages each channel over its H*W positions (the
// squeeze of squeeze-excite, and the head's pool):
//
//	y[n,c] = (1/(H*W)) sum_{h,w} x[n,c,h,w]
//
// x is [N,C,H,W] (xs); y is a new [N,C] slice.
func GlobalAvgPoolForward(x []float64, xs Shape4) []float64 {
	mustLen("global avg pool forward", "x", len(x), xs.Len())
	area := float64(xs.H * xs.W)
	y := make([]float64, xs.N*xs.C)
	for n := range xs.N {
		for c := range xs.C {
			sum := 0.0
			for h := range xs.H {
				for w := range xs.W {
					sum += x[xs.Index(n, c, h, w)]
				}
			}
			y[n*xs.C+c] = sum / area
		}
	}
	return y
}

// GlobalAvgPoolBackward is the gradient of GlobalAvgPoolForward:
//
//	dx[n,c,h,w] = dy[n,c] / (H*W)
//
// dy is [N,C]; dx is a new tensor of shape xs.
func GlobalAvgPoolBackward(dy []float64, xs Shape4) []float64 {
	mustLen("global avg pool backward", "dy", len(dy), xs.N*xs.C)
	area := float64(xs.H * xs.W)
	dx := make([]float64, xs.Len())
	for n := range xs.N {
		for c := range xs.C {
			for h := range xs.H {
				for w := range xs.W {
					dx[xs.Index(n, c, h, w)] = dy[n*xs.C+c] / area
				}
			}
		}
	}
	return dx
}
