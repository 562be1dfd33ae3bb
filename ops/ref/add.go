package ref

// AddForward is the residual sum y[i] = a[i] + b[i]; y is new.
//
// There is no AddBackward: the gradient is the identity, da = dy and db = dy
// (a kernel passes dy on to both branches, or accumulates it into the
// skip branch's gradient).
func AddForward(a, b []float64) []float64 {
	mustLen("add forward", "b", len(b), len(a))
	y := make([]float64, len(a))
	for i := range a {
		y[i] = a[i] + b[i]
	}
	return y
}
