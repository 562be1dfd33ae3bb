package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// SoftmaxCrossEntropy records the classifier loss over logits [N,K] with hard
// labels (int32 [N], each in [0,K)) and label smoothing eps in [0,1]: the
// target of sample n is t[n,:] = (1-eps) * onehot(labels[n]) + eps/K. It
// writes, as ref.SoftmaxCrossEntropy (p = softmax of each row):
//
//	loss[0]      = (1/N) sum_n -sum_j t[n,j] * log p[n,j]
//	dlogits[n,j] = (p[n,j] - t[n,j]) / N          (the gradient of loss)
//	correct[0]   = #samples whose label is in the top 1
//	correct[1]   = #samples whose label is in the top 5
//
// where a label is in the top k when fewer than k classes have a strictly
// larger logit. loss is float32 [1], correct float32 [2], dlogits float32
// [N,K]. Everything is summed in a fixed order (bitwise reproducible). A label
// outside [0,K), which the device cannot report, makes loss NaN.
func SoftmaxCrossEntropy(s *engine.Sequence, loss, correct, dlogits, logits, labels *engine.Tensor, eps float32) {
	const op = "softmax cross entropy"
	n, k, ok := crossEntropyShapes(s, op, loss, correct, dlogits, logits)
	if !ok {
		return
	}
	if !(eps >= 0 && eps <= 1) {
		s.Fail(fmt.Errorf("%s: label smoothing %v: want a value in [0,1]", op, eps))
		return
	}
	if !dtypeIs(s, op, "labels", labels, engine.Int32) || !wantShape(s, op, "labels", labels, n) {
		return
	}
	push := shaders.SoftmaxCrossEntropyHardPush{N: uint32(n), K: uint32(k), Eps: eps}
	s.Dispatch(s.Kernel("softmax_cross_entropy_hard", seLocal), engine.Grid{X: 1, Y: 1, Z: 1}, push, loss, correct, dlogits, logits, labels)
}

// SoftmaxCrossEntropySoft is SoftmaxCrossEntropy with soft targets (float32
// [N,K], e.g. from mixup, rows normally summing to 1):
//
//	loss[0]      = (1/N) sum_n -sum_j t[n,j] * log p[n,j]
//	dlogits[n,j] = (p[n,j] * sum_j' t[n,j'] - t[n,j]) / N
//
// The accuracy counts take each row's argmax (the first, on ties) as the
// label.
func SoftmaxCrossEntropySoft(s *engine.Sequence, loss, correct, dlogits, logits, targets *engine.Tensor) {
	const op = "softmax cross entropy (soft targets)"
	n, k, ok := crossEntropyShapes(s, op, loss, correct, dlogits, logits)
	if !ok || !wantMatrix(s, op, "targets", targets, n, k) {
		return
	}
	push := shaders.SoftmaxCrossEntropySoftPush{N: uint32(n), K: uint32(k)}
	s.Dispatch(s.Kernel("softmax_cross_entropy_soft", seLocal), engine.Grid{X: 1, Y: 1, Z: 1}, push, loss, correct, dlogits, logits, targets)
}

// crossEntropyShapes checks the tensors both loss entry points share.
func crossEntropyShapes(s *engine.Sequence, op string, loss, correct, dlogits, logits *engine.Tensor) (n, k int, ok bool) {
	n, k, ok = matrixShape(s, op, "logits", logits)
	if !ok || !wantMatrix(s, op, "dlogits", dlogits, n, k) {
		return 0, 0, false
	}
	if !wantVector(s, op, "loss", loss, 1) ||
		!wantVector(s, op, "correct", correct, 2) {
		return 0, 0, false
	}
	return n, k, true
}
