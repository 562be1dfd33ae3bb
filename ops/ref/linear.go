package ref

// LinearForward is a fully connected layer, y = x W^T + b:
//
//	y[n,o] = b[o] + sum_{i<in} x[n,i] * w[o,i]
//
// x is [n,in], w is [out,in], b is [out] (nil for no bias); y is a new
// [n,out] slice.
func LinearForward(x []float64, n, in int, w, b []float64, out int) []float64 {
	const op = "linear forward"
	mustLen(op, "x", len(x), n*in)
	mustLen(op, "w", len(w), out*in)
	if b != nil {
		mustLen(op, "b", len(b), out)
	}
	y := make([]float64, n*out)
	for r := range n {
		for o := range out {
			sum := 0.0
			if b != nil {
				sum = b[o]
			}
			for i := range in {
				sum += x[r*in+i] * w[o*in+i]
			}
			y[r*out+o] = sum
		}
	}
	return y
}

// LinearBackward is the gradient of LinearForward:
//
//	dx[n,i] = sum_o dy[n,o] * w[o,i]
//	dw[o,i] = sum_n dy[n,o] * x[n,i]
//	db[o]   = sum_n dy[n,o]
//
// dy is [n,out], x is [n,in], w is [out,in]. All three results are new
// slices (overwritten, not accumulated); db is computed whether or not the
// forward had a bias.
func LinearBackward(dy, x []float64, n, in int, w []float64, out int) (dx, dw, db []float64) {
	const op = "linear backward"
	mustLen(op, "dy", len(dy), n*out)
	mustLen(op, "x", len(x), n*in)
	mustLen(op, "w", len(w), out*in)
	dx = make([]float64, n*in)
	dw = make([]float64, out*in)
	db = make([]float64, out)
	for r := range n {
		for i := range in {
			sum := 0.0
			for o := range out {
				sum += dy[r*out+o] * w[o*in+i]
			}
			dx[r*in+i] = sum
		}
	}
	for o := range out {
		for i := range in {
			sum := 0.0
			for r := range n {
				sum += dy[r*out+o] * x[r*in+i]
			}
			dw[o*in+i] = sum
		}
		for r := range n {
			db[o] += dy[r*out+o]
		}
	}
	return dx, dw, db
}
