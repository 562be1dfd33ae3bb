package ops

import "github.com/effv2vk/effv2vk/engine"

// PointwiseForwardScaled records PointwiseForward of x scaled per image and
// channel by sc [N,C] as it is read (squeeze-excite's channel scale, whose
// product is then never written):
//
//	y[n,o,h,w] = sum_c w[o,c,0,0] * x[n,c,h,w] * sc[n,c]
func PointwiseForwardScaled(s *engine.Sequence, y, x, w, sc *engine.Tensor) {
	ep := &Epilogue{InputScale: sc}
	if ep.checkInputScale(s, "pointwise forward scaled", x, true) {
		pointwiseForward(s, y, x, w, ep)
	}
}

// PointwiseBackwardWeightScaled records the weight gradient of
// PointwiseForwardScaled (x and sc as given to it, dy the output's
// gradient; the input's gradient is PointwiseBackwardData's, taken with
// respect to the scaled input):
//
//	dw[o,c,0,0] = sum_{n,h,w} dy[n,o,h,w] * x[n,c,h,w] * sc[n,c]
func PointwiseBackwardWeightScaled(s *engine.Sequence, dw, x, dy, sc *engine.Tensor) {
	ep := &Epilogue{InputScale: sc}
	if ep.checkInputScale(s, "pointwise backward weight scaled", x, true) {
		pointwiseBackwardWeight(s, dw, x, dy, ep)
	}
}
