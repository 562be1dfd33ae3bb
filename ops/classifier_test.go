package ops_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// ceOutputs are the poisoned outputs of one cross-entropy call.
type ceOutputs struct{ loss, correct, dlogits *engine.Tensor }

func newCEOutputs(t *testing.T, d *engine.Device, n, k int) ceOutputs {
	return ceOutputs{poisoned(t, d, "loss", 1), poisoned(t, d, "correct", 2), poisoned(t, d, "dlogits", n, k)}
}

// checkCE compares the device's loss, counts and gradient with the reference.
func checkCE(t *testing.T, o ceOutputs, want ref.CrossEntropyResult) {
	t.Helper()
	compare(t, "loss", download(t, o.loss), []float64{want.Loss}, 1e-5)
	compare(t, "dlogits", download(t, o.dlogits), want.DLogits, 1e-4)
	got := download(t, o.correct)
	if got[0] != float64(want.Top1) || got[1] != float64(want.Top5) {
		t.Fatalf("correct = %v, want top1 %d top5 %d", got, want.Top1, want.Top5)
	}
}

// ceLogits draws logits with ties: some rows copy the label's logit to
// other classes, to exercise the strict "larger than" of top-k.
func ceLogits(r *rand.Rand, n, k int, labels []int) ([]float64, []float32) {
	l64, l32 := randSlice(r, n*k)
	for row := range n {
		if row%2 == 1 && labels != nil {
			for j := 0; j < k; j += 3 {
				l32[row*k+j] = l32[row*k+labels[row]]
				l64[row*k+j] = float64(l32[row*k+j])
			}
		}
	}
	return l64, l32
}

func TestSoftmaxCrossEntropyHard(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, c := range []struct {
		n, k int
		eps  float32
	}{{1, 1, 0}, {1, 10, 0.1}, {5, 10, 0}, {8, 1000, 0.1}, {3, 7 + r.IntN(300), 0.2}, {65, 3, 0.1}} {
		t.Run(fmt.Sprintf("%dx%d eps%v", c.n, c.k, c.eps), func(t *testing.T) {
			labels := make([]int, c.n)
			lab32 := make([]int32, c.n)
			for i := range labels {
				labels[i] = r.IntN(c.k)
				lab32[i] = int32(labels[i])
			}
			l64, l32 := ceLogits(r, c.n, c.k, labels)
			logits := upload(t, d, "logits", l32, c.n, c.k)
			lab, err := d.NewTensor("labels", engine.Int32, c.n)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(lab.Free)
			if err := lab.Upload(lab32); err != nil {
				t.Fatal(err)
			}
			o := newCEOutputs(t, d, c.n, c.k)
			run(t, d, func(s *engine.Sequence) {
				ops.SoftmaxCrossEntropy(s, o.loss, o.correct, o.dlogits, logits, lab, c.eps)
			})
			checkCE(t, o, ref.SoftmaxCrossEntropy(l64, c.n, c.k, ref.HardTargets(labels, float64(c.eps))))
			first := download(t, o.dlogits)
			firstLoss := download(t, o.loss)
			run(t, d, func(s *engine.Sequence) {
				ops.SoftmaxCrossEntropy(s, o.loss, o.correct, o.dlogits, logits, lab, c.eps)
			})
			sameBits(t, "dlogits", first, download(t, o.dlogits))
			sameBits(t, "loss", firstLoss, download(t, o.loss))

			// A label out of range makes the loss NaN instead of reading out of bounds.
			lab32[0] = int32(c.k)
			if err := lab.Upload(lab32); err != nil {
				t.Fatal(err)
			}
			run(t, d, func(s *engine.Sequence) {
				ops.SoftmaxCrossEntropy(s, o.loss, o.correct, o.dlogits, logits, lab, c.eps)
			})
			if v := download(t, o.loss)[0]; !math.IsNaN(v) {
				t.Fatalf("label %d of %d classes: loss %v, want NaN", c.k, c.k, v)
			}
		})
	}
}

func TestSoftmaxCrossEntropySoft(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, c := range []struct{ n, k int }{{1, 1}, {4, 10}, {8, 1000}, {3, 5 + r.IntN(200)}} {
		t.Run(fmt.Sprintf("%dx%d", c.n, c.k), func(t *testing.T) {
			// Mixup-like targets: two classes share the mass; one row with a tie.
			t64, t32 := make([]float64, c.n*c.k), make([]float32, c.n*c.k)
			for row := range c.n {
				a, b := r.IntN(c.k), r.IntN(c.k)
				lam := float32(r.Float64())
				if row == 0 {
					lam = 0.5
				}
				t32[row*c.k+a] += lam
				t32[row*c.k+b] += 1 - lam
			}
			for i := range t32 {
				t64[i] = float64(t32[i])
			}
			l64, l32 := ceLogits(r, c.n, c.k, nil)
			logits := upload(t, d, "logits", l32, c.n, c.k)
			targets := upload(t, d, "targets", t32, c.n, c.k)
			o := newCEOutputs(t, d, c.n, c.k)
			run(t, d, func(s *engine.Sequence) {
				ops.SoftmaxCrossEntropySoft(s, o.loss, o.correct, o.dlogits, logits, targets)
			})
			checkCE(t, o, ref.SoftmaxCrossEntropy(l64, c.n, c.k, ref.SoftTargets(t64)))
		})
	}
}

func TestSoftmaxCrossEntropyErrors(t *testing.T) {
	d := enginetest.Open(t)
	logits, targets := poisoned(t, d, "logits", 4, 10), poisoned(t, d, "targets", 4, 10)
	o := newCEOutputs(t, d, 4, 10)
	labels := newTensor(t, d, engine.Int32, 4)
	floatLabels := poisoned(t, d, "float labels", 4)
	wantRecordErrors(t, d, []errorCase{
		{"float labels", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropy(s, o.loss, o.correct, o.dlogits, logits, floatLabels, 0)
		}, "softmax cross entropy: labels float labels float32[4] must hold int32"},
		{"labels length", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropy(s, o.loss, o.correct, o.dlogits, logits, newTensor(t, d, engine.Int32, 5), 0)
		}, "softmax cross entropy: labels t int32[5] does not match shape [4]"},
		{"missing labels", func(s *engine.Sequence) { ops.SoftmaxCrossEntropy(s, o.loss, o.correct, o.dlogits, logits, nil, 0) }, "softmax cross entropy: labels is missing"},
		{"smoothing 1.5", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropy(s, o.loss, o.correct, o.dlogits, logits, labels, 1.5)
		}, "label smoothing 1.5"},
		{"smoothing NaN", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropy(s, o.loss, o.correct, o.dlogits, logits, labels, float32(math.NaN()))
		}, "label smoothing NaN"},
		{"targets shape", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropySoft(s, o.loss, o.correct, o.dlogits, logits, poisoned(t, d, "t", 4, 9))
		}, "(soft targets): targets t float32[4 9] does not match shape [4 10]"},
		{"3-D logits", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropySoft(s, o.loss, o.correct, o.dlogits, poisoned(t, d, "l3", 4, 10, 1), targets)
		}, "logits l3 float32[4 10 1] must be [rows, cols] or [rows, cols, 1, 1]"},
		{"dlogits", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropySoft(s, o.loss, o.correct, poisoned(t, d, "dl", 4, 9), logits, targets)
		}, "dlogits dl float32[4 9] does not match shape [4 10]"},
		{"int loss", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropySoft(s, newTensor(t, d, engine.Int32, 1), o.correct, o.dlogits, logits, targets)
		}, "loss t int32[1] must hold float32"},
		{"loss shape", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropySoft(s, poisoned(t, d, "l2", 2), o.correct, o.dlogits, logits, targets)
		}, "loss l2 float32[2] does not match shape [1]"},
		{"int correct", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropySoft(s, o.loss, newTensor(t, d, engine.Int32, 2), o.dlogits, logits, targets)
		}, "correct t int32[2] must hold float32"},
		{"correct shape", func(s *engine.Sequence) {
			ops.SoftmaxCrossEntropySoft(s, o.loss, o.loss, o.dlogits, logits, targets)
		}, "correct loss float32[1] does not match shape [2]"},
	})
}
