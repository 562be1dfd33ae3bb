package ref

import (
	"fmt"
	"math"
)

// Targets are a classifier's targets for a batch of N samples over K
// classes: either hard labels with label smoothing (HardTargets) or soft
// per-class targets such as mixup produces (SoftTargets).
type Targets struct {
	// Labels are the N hard labels, each in [0,K); nil for soft targets.
	Labels []int
	// Smoothing is the label smoothing eps applied to Labels.
	Smoothing float64
	// Soft are the [N,K] soft targets; nil for hard labels.
	Soft []float64
}

// HardTargets are hard labels with label smoothing eps: the target of sample
// n is (1-eps) * onehot(labels[n]) + eps/K.
func HardTargets(labels []int, smoothing float64) Targets {
	return Targets{Labels: labels, Smoothing: smoothing}
}

// SoftTargets are [N,K] soft targets (rows normally summing to 1); the
// accuracy counts use each row's argmax (the first, on ties) as the label.
func SoftTargets(probs []float64) Targets { return Targets{Soft: probs} }

// CrossEntropyResult is what SoftmaxCrossEntropy computes for a batch.
type CrossEntropyResult struct {
	// Loss is the mean over the N samples of the per-sample cross entropy.
	Loss float64
	// DLogits is the [N,K] gradient of Loss with respect to the logits.
	DLogits []float64
	// Top1 and Top5 count the samples whose label is in the top 1 / top 5.
	Top1, Top5 int
}

// SoftmaxCrossEntropy is the classifier loss over logits [n,k]. With t the
// dense [N,K] target (see Targets) and p = softmax of each row:
//
//	logp[n,j]    = logits[n,j] - max_j' logits[n,j'] - log sum_j' exp(logits[n,j'] - max)
//	loss         = (1/N) sum_n -sum_j t[n,j] * logp[n,j]
//	dlogits[n,j] = (p[n,j] * sum_j' t[n,j'] - t[n,j]) / N      (= (p - t)/N when rows of t sum to 1)
//
// Top-k accuracy: a sample's label (the hard label, or the argmax of its soft
// target) counts as in the top k when fewer than k classes have a strictly
// larger logit; so ties favour the label, and with k > K every sample counts.
// DLogits is a new slice (overwritten).
func SoftmaxCrossEntropy(logits []float64, n, k int, targets Targets) CrossEntropyResult {
	const op = "softmax cross entropy"
	mustLen(op, "logits", len(logits), n*k)
	t, labels := denseTargets(op, n, k, targets)
	res := CrossEntropyResult{DLogits: make([]float64, n*k)}
	for r := range n {
		row := logits[r*k : (r+1)*k]
		maxLogit := math.Inf(-1)
		for _, v := range row {
			maxLogit = max(maxLogit, v)
		}
		sumExp := 0.0
		for _, v := range row {
			sumExp += math.Exp(v - maxLogit)
		}
		logSumExp := math.Log(sumExp)
		tSum := 0.0
		for j := range k {
			tSum += t[r*k+j]
		}
		for j := range k {
			logp := row[j] - maxLogit - logSumExp
			res.Loss -= t[r*k+j] * logp
			res.DLogits[r*k+j] = (math.Exp(logp)*tSum - t[r*k+j]) / float64(n)
		}
		larger := 0
		for _, v := range row {
			if v > row[labels[r]] {
				larger++
			}
		}
		if larger < 1 {
			res.Top1++
		}
		if larger < 5 {
			res.Top5++
		}
	}
	res.Loss /= float64(n)
	return res
}

// denseTargets expands targets into the dense [n,k] target matrix and the
// per-sample labels used for accuracy.
func denseTargets(op string, n, k int, targets Targets) (t []float64, labels []int) {
	if (targets.Labels == nil) == (targets.Soft == nil) {
		panic(fmt.Sprintf("ref: %s: targets need exactly one of Labels and Soft", op))
	}
	t = make([]float64, n*k)
	labels = make([]int, n)
	if targets.Soft != nil {
		mustLen(op, "soft targets", len(targets.Soft), n*k)
		copy(t, targets.Soft)
		for r := range n {
			for j := range k {
				if t[r*k+j] > t[r*k+labels[r]] {
					labels[r] = j
				}
			}
		}
		return t, labels
	}
	mustLen(op, "labels", len(targets.Labels), n)
	eps := targets.Smoothing
	for r, label := range targets.Labels {
		if label < 0 || label >= k {
			panic(fmt.Sprintf("ref: %s: label %d of sample %d is outside [0,%d)", op, label, r, k))
		}
		for j := range k {
			t[r*k+j] = eps / float64(k)
		}
		t[r*k+label] += 1 - eps
		labels[r] = label
	}
	return t, labels
}
