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

// TestBatchNormTrainForwardVariants forces each way of recording
// ops.BatchNormTrainForward ("fused": one dispatch; "twopass": stats, then
// normalize) over the batch-norm test shapes, with and without SiLU and a
// residual: each must match the float64 reference and give the bits of
// BatchNormStats + BatchNormForward(Residual) recorded beside it.
func TestBatchNormTrainForwardVariants(t *testing.T) {
	d := enginetest.Open(t)
	for _, v := range []string{"fused", "twopass"} {
		t.Run(v, func(t *testing.T) {
			forceTuning(t, "batchnorm_train_forward", v)
			checkTunedBNTrainForward(t, d, testRand(t), v)
		})
	}
}

// checkTunedBNTrainForward runs checkBNTrainForward over bnShapes, cycling
// through the activation and residual cases, with variant forced.
func checkTunedBNTrainForward(t *testing.T, d *engine.Device, r *rand.Rand, variant string) {
	t.Helper()
	for i, xs := range bnShapes(r) {
		act := ops.ActNone
		if i%2 == 1 {
			act = ops.ActSiLU
		}
		checkBNTrainForward(t, d, r, xs, act, i%4 >= 2, variant)
	}
	if !forcedUsed(d, "batchnorm_train_forward", variant) {
		t.Fatalf("variant %s of batchnorm_train_forward never used", variant)
	}
}

// checkBNTrainForward checks one call of ops.BatchNormTrainForward against
// the reference and against the two separate operations.
func checkBNTrainForward(t *testing.T, d *engine.Device, r *rand.Rand, xs ref.Shape4, act ops.Activation, residual bool, variant string) {
	t.Helper()
	const eps = 1e-3
	what := fmt.Sprintf("%s %v act %v residual %v", variant, xs, act, residual)
	in := newBNInputs(r, xs)
	wantY, wantMean, _, wantInvstd := ref.BatchNormTrainForward(in.x, xs, in.gamma, in.beta, eps)
	if act == ops.ActSiLU {
		wantY = silu(wantY)
	}
	x := upload(t, d, "x", in.x32, xs.N, xs.C, xs.H, xs.W)
	gamma := upload(t, d, "gamma", in.g32, xs.C)
	beta := upload(t, d, "beta", in.b32, xs.C)
	var res *engine.Tensor
	if residual {
		r64, r32 := randSlice(r, xs.Len())
		res = upload(t, d, "residual", r32, xs.N, xs.C, xs.H, xs.W)
		for i := range wantY {
			wantY[i] += r64[i]
		}
	}
	mean, invstd := poisoned(t, d, "mean", xs.C), poisoned(t, d, "invstd", xs.C)
	y := poisoned(t, d, "y", xs.N, xs.C, xs.H, xs.W)
	mean2, invstd2 := poisoned(t, d, "mean two pass", xs.C), poisoned(t, d, "invstd two pass", xs.C)
	y2 := poisoned(t, d, "y two pass", xs.N, xs.C, xs.H, xs.W)
	var dispatches int
	run(t, d, func(s *engine.Sequence) {
		ops.BatchNormTrainForward(s, y, mean, invstd, x, gamma, beta, act, res, eps)
		dispatches = s.Dispatches()
		ops.BatchNormStats(s, mean2, invstd2, x, eps)
		if residual {
			ops.BatchNormForwardResidual(s, y2, x, mean2, invstd2, gamma, beta, act, res)
		} else {
			ops.BatchNormForward(s, y2, x, mean2, invstd2, gamma, beta, act)
		}
	})
	if want := map[string]int{"fused": 1, "twopass": 2}[variant]; dispatches != want {
		t.Errorf("%s: %d dispatches, want %d", what, dispatches, want)
	}
	got := [3][]float64{download(t, mean), download(t, invstd), download(t, y)}
	for i, name := range []string{"mean", "invstd", "y"} {
		sameBits(t, what+" "+name+" against the two passes", got[i], download(t, []*engine.Tensor{mean2, invstd2, y2}[i]))
	}
	meanFloor, yFloor := 0.0, 0.0
	hw := xs.H * xs.W
	for i, v := range in.x {
		c := (i / hw) % xs.C
		meanFloor = math.Max(meanFloor, math.Abs(v))
		yFloor = math.Max(yFloor, math.Abs(in.gamma[c]*(v-wantMean[c])*wantInvstd[c])+math.Abs(in.beta[c]))
	}
	compareAtLeast(t, what+" mean", got[0], wantMean, 1e-5, meanFloor)
	compare(t, what+" invstd", got[1], wantInvstd, 1e-5)
	compareAtLeast(t, what+" y", got[2], wantY, 1e-5, yFloor)
}
