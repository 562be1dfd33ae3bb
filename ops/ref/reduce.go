package ref

import "math"

// Sum is the sum of every element of every slice, added in order:
// sum_s sum_i s[i].
func Sum(slices ...[]float64) float64 {
	total := 0.0
	for _, s := range slices {
		for _, v := range s {
			total += v
		}
	}
	return total
}

// Mean is Sum divided by the total number of elements of all slices; it is
// NaN when there are no elements.
func Mean(slices ...[]float64) float64 {
	count := 0
	for _, s := range slices {
		count += len(s)
	}
	if count == 0 {
		return math.NaN()
	}
	return Sum(slices...) / float64(count)
}

// L2Norm is the Euclidean norm of all slices taken as one vector,
// sqrt(sum_s sum_i s[i]^2) (as used for gradient-norm clipping and logging).
func L2Norm(slices ...[]float64) float64 {
	sq := 0.0
	for _, s := range slices {
		for _, v := range s {
			sq += v * v
		}
	}
	return math.Sqrt(sq)
}
