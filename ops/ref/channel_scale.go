package ref

// ChannelScaleForward multiplies every channel by a per-sample gate (the
// excite of squeeze-excite):
//
//	y[n,c,h,w] = x[n,c,h,w] * s[n,c]
//
// x is [N,C,H,W] (xs), s is [N,C]; y is new, of shape xs.
func ChannelScaleForward(x []float64, xs Shape4, s []float64) []float64 {
	const op = "channel scale forward"
	mustLen(op, "x", len(x), xs.Len())
	mustLen(op, "s", len(s), xs.N*xs.C)
	y := make([]float64, xs.Len())
	for n := range xs.N {
		for c := range xs.C {
			for h := range xs.H {
				for w := range xs.W {
					i := xs.Index(n, c, h, w)
					y[i] = x[i] * s[n*xs.C+c]
				}
			}
		}
	}
	return y
}

// ChannelScaleBackward is the gradient of ChannelScaleForward:
//
//	dx[n,c,h,w] = dy[n,c,h,w] * s[n,c]
//	ds[n,c]     = sum_{h,w} dy[n,c,h,w] * x[n,c,h,w]
//
// dy and x are [N,C,H,W] (xs), s is [N,C]; dx and ds are new (overwritten).
func ChannelScaleBackward(dy, x []float64, xs Shape4, s []float64) (dx, ds []float64) {
	const op = "channel scale backward"
	mustLen(op, "dy", len(dy), xs.Len())
	mustLen(op, "x", len(x), xs.Len())
	mustLen(op, "s", len(s), xs.N*xs.C)
	dx = make([]float64, xs.Len())
	ds = make([]float64, xs.N*xs.C)
	for n := range xs.N {
		for c := range xs.C {
			sum := 0.0
			for h := range xs.H {
				for w := range xs.W {
					i := xs.Index(n, c, h, w)
					dx[i] = dy[i] * s[n*xs.C+c]
					sum += dy[i] * x[i]
				}
			}
			ds[n*xs.C+c] = sum
		}
	}
	return dx, ds
}
