package ref

import (
	"math"
	"testing"
)

func TestCrossEntropyUniformLogits(t *testing.T) {
	const n, k = 2, 5
	res := SoftmaxCrossEntropy(make([]float64, n*k), n, k, HardTargets([]int{1, 4}, 0))
	if !closeTo(res.Loss, math.Log(k), 1e-15, 0) {
		t.Errorf("loss = %v, want log %d = %v", res.Loss, k, math.Log(k))
	}
	for r, label := range []int{1, 4} {
		for j := range k {
			want := 1.0 / k / n
			if j == label {
				want -= 1.0 / n
			}
			if got := res.DLogits[r*k+j]; !closeTo(got, want, 1e-15, 1e-17) {
				t.Errorf("dlogits[%d,%d] = %v, want %v", r, j, got, want)
			}
		}
	}
}

// Label smoothing eps equals soft targets (1-eps)*onehot + eps/K.
func TestCrossEntropySmoothingEqualsSoftTargets(t *testing.T) {
	const n, k, eps = 3, 7, 0.1
	rng := newRand(81)
	logits := randSlice(rng, n*k)
	labels := []int{0, 6, 3}
	soft := make([]float64, n*k)
	for r, l := range labels {
		for j := range k {
			soft[r*k+j] = eps / k
		}
		soft[r*k+l] += 1 - eps
	}
	hard := SoftmaxCrossEntropy(logits, n, k, HardTargets(labels, eps))
	viaSoft := SoftmaxCrossEntropy(logits, n, k, SoftTargets(soft))
	if !closeTo(hard.Loss, viaSoft.Loss, 1e-14, 0) {
		t.Errorf("loss %v with smoothing, %v with soft targets", hard.Loss, viaSoft.Loss)
	}
	assertClose(t, "dlogits", hard.DLogits, viaSoft.DLogits, 1e-13)
}

func TestCrossEntropyGradients(t *testing.T) {
	const n, k = 3, 7
	rng := newRand(82)
	logits := randSlice(rng, n*k)
	for i := range logits {
		logits[i] *= 4
	}
	soft := make([]float64, n*k)
	for i := range soft {
		soft[i] = rng.Float64()
	}
	for name, tg := range map[string]Targets{
		"hard":            HardTargets([]int{2, 0, 6}, 0),
		"smoothed":        HardTargets([]int{2, 0, 6}, 0.1),
		"soft unnormed":   SoftTargets(soft),
		"single sample 5": HardTargets([]int{5, 5, 5}, 0.3),
	} {
		t.Run(name, func(t *testing.T) {
			res := SoftmaxCrossEntropy(logits, n, k, tg)
			checkGradient(t, "dlogits", logits, res.DLogits,
				func() float64 { return SoftmaxCrossEntropy(logits, n, k, tg).Loss })
		})
	}
}

// A class is in the top k when fewer than k classes have a strictly larger
// logit: ties count in the label's favour.
func TestCrossEntropyTopKTies(t *testing.T) {
	row := []float64{1, 3, 3, 0, 2, 2, 2}
	const k = 7
	for _, c := range []struct {
		label      int
		top1, top5 int
	}{
		{1, 1, 1}, // tied for the largest
		{2, 1, 1},
		{4, 0, 1}, // two classes larger
		{0, 0, 0}, // five classes larger
		{3, 0, 0},
	} {
		res := SoftmaxCrossEntropy(row, 1, k, HardTargets([]int{c.label}, 0))
		if res.Top1 != c.top1 || res.Top5 != c.top5 {
			t.Errorf("label %d: top1 %d top5 %d, want %d %d", c.label, res.Top1, res.Top5, c.top1, c.top5)
		}
	}
	// Fewer than 5 classes: every sample is in the top 5.
	res := SoftmaxCrossEntropy([]float64{5, 1, 0}, 1, 3, HardTargets([]int{2}, 0))
	if res.Top1 != 0 || res.Top5 != 1 {
		t.Errorf("3 classes, label last: top1 %d top5 %d, want 0 1", res.Top1, res.Top5)
	}
}

// Soft targets take the argmax (first on ties) as the label.
func TestCrossEntropySoftTargetAccuracy(t *testing.T) {
	logits := []float64{
		0, 2, 1, // argmax logit 1
		0, 2, 1,
	}
	soft := []float64{
		0.2, 0.6, 0.2, // label 1: top-1
		0.4, 0.2, 0.4, // tie between 0 and 2: label 0, not top-1
	}
	res := SoftmaxCrossEntropy(logits, 2, 3, SoftTargets(soft))
	if res.Top1 != 1 || res.Top5 != 2 {
		t.Errorf("top1 %d top5 %d, want 1 2", res.Top1, res.Top5)
	}
}

func TestCrossEntropyPanicsOnBadLabel(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for label 3 of 3 classes")
		}
	}()
	SoftmaxCrossEntropy(make([]float64, 3), 1, 3, HardTargets([]int{3}, 0))
}
