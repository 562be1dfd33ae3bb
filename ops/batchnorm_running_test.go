package ops_test

import (
	"fmt"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// TestBatchNormRunningFolded checks the running update done by the kernels
// that compute the batch statistics (ops.BatchNormRunning): for each way of
// recording BatchNormTrainForwardUpdate ("fused", "twopass") and for
// BatchNormStatsUpdate, over the batch-norm test shapes, the batch
// statistics, y and the running statistics must have the bits of the
// unfused operations (BatchNormStats, BatchNormForward(Residual),
// BatchNormUpdateRunning) recorded beside them, in one dispatch fewer, and
// the running statistics must match the float64 reference.
func TestBatchNormRunningFolded(t *testing.T) {
	d := enginetest.Open(t)
	for _, v := range []string{"fused", "twopass", "stats"} {
		t.Run(v, func(t *testing.T) {
			if v != "stats" {
				forceTuning(t, "batchnorm_train_forward", v)
			}
			r := testRand(t)
			for i, xs := range bnShapes(r) {
				if xs.N*xs.H*xs.W < 2 {
					continue // the update needs two values per channel
				}
				act := ops.ActNone
				if i%2 == 1 {
					act = ops.ActSiLU
				}
				checkBNRunningFolded(t, d, xs, act, i%4 >= 2, v)
			}
			if v != "stats" && !forcedUsed(d, "batchnorm_train_forward", v) {
				t.Fatalf("variant %s of batchnorm_train_forward never used", v)
			}
		})
	}
}

// checkBNRunningFolded checks one folded running update (variant "stats":
// BatchNormStatsUpdate; else BatchNormTrainForwardUpdate) against the
// separate operations and the reference.
func checkBNRunningFolded(t *testing.T, d *engine.Device, xs ref.Shape4, act ops.Activation, residual bool, variant string) {
	t.Helper()
	const eps, momentum = 1e-3, 0.1
	r := testRand(t)
	what := fmt.Sprintf("%s %v act %v residual %v", variant, xs, act, residual)
	count := xs.N * xs.H * xs.W
	in := newBNInputs(r, xs)
	_, bMean, bVar, _ := ref.BatchNormTrainForward(in.x, xs, in.gamma, in.beta, eps)
	rm64, rm32, rv64, rv32 := randRunningStats(r, xs.C)
	x := upload(t, d, "x", in.x32, xs.N, xs.C, xs.H, xs.W)
	gamma := upload(t, d, "gamma", in.g32, xs.C)
	beta := upload(t, d, "beta", in.b32, xs.C)
	var res *engine.Tensor
	if residual {
		_, r32 := randSlice(r, xs.Len())
		res = upload(t, d, "residual", r32, xs.N, xs.C, xs.H, xs.W)
	}
	// Index 0: folded; 1: separate.
	var mean, invstd, y, runMean, runVar [2]*engine.Tensor
	for k, how := range []string{"folded", "separate"} {
		mean[k], invstd[k] = poisoned(t, d, how+" mean", xs.C), poisoned(t, d, how+" invstd", xs.C)
		y[k] = poisoned(t, d, how+" y", xs.N, xs.C, xs.H, xs.W)
		runMean[k] = upload(t, d, how+" running mean", rm32, xs.C)
		runVar[k] = upload(t, d, how+" running var", rv32, xs.C)
	}
	var folded, separate int
	run(t, d, func(s *engine.Sequence) {
		rs := &ops.BatchNormRunning{Mean: runMean[0], Var: runVar[0], Momentum: momentum, Count: count}
		if variant == "stats" {
			ops.BatchNormStatsUpdate(s, mean[0], invstd[0], x, eps, rs)
		} else {
			ops.BatchNormTrainForwardUpdate(s, y[0], mean[0], invstd[0], x, gamma, beta, act, res, eps, rs)
		}
		folded = s.Dispatches()
		ops.BatchNormStats(s, mean[1], invstd[1], x, eps)
		ops.BatchNormUpdateRunning(s, runMean[1], runVar[1], mean[1], invstd[1], eps, momentum, count)
		if variant != "stats" {
			if residual {
				ops.BatchNormForwardResidual(s, y[1], x, mean[1], invstd[1], gamma, beta, act, res)
			} else {
				ops.BatchNormForward(s, y[1], x, mean[1], invstd[1], gamma, beta, act)
			}
		}
		separate = s.Dispatches() - folded
	})
	// The update costs no dispatch of its own.
	if want := map[string]int{"fused": 1, "twopass": 2, "stats": 1}[variant]; folded != want {
		t.Errorf("%s: %d dispatches folded (%d separate), want %d", what, folded, separate, want)
	}
	names := []string{"mean", "invstd", "running mean", "running var", "y"}
	pairs := [][2]*engine.Tensor{mean, invstd, runMean, runVar, y}
	if variant == "stats" {
		names, pairs = names[:4], pairs[:4]
	}
	for i, name := range names {
		sameBits(t, what+" "+name+" against the separate operations", download(t, pairs[i][0]), download(t, pairs[i][1]))
	}
	ref.BatchNormUpdateRunning(rm64, rv64, bMean, bVar, count, momentum)
	compare(t, what+" running mean", download(t, runMean[0]), rm64, 1e-5)
	compare(t, what+" running var", download(t, runVar[0]), rv64, 1e-5)
}

// TestBatchNormRunningErrors checks that a bad running update is refused
// with a message naming it.
func TestBatchNormRunningErrors(t *testing.T) {
	d := enginetest.Open(t)
	newT := func(shape ...int) *engine.Tensor { return poisoned(t, d, "t", shape...) }
	x, y := newT(2, 3, 2, 2), newT(2, 3, 2, 2)
	mean, invstd, gamma, beta := newT(3), newT(3), newT(3), newT(3)
	runMean, runVar := newT(3), newT(3)
	wantRecordErrors(t, d, []errorCase{
		{"stats count", func(s *engine.Sequence) {
			ops.BatchNormStatsUpdate(s, mean, invstd, x, 1e-3, &ops.BatchNormRunning{Mean: runMean, Var: runVar, Momentum: 0.1, Count: 1})
		}, "batch norm stats: count 1"},
		{"train running var", func(s *engine.Sequence) {
			ops.BatchNormTrainForwardUpdate(s, y, mean, invstd, x, gamma, beta, ops.ActNone, nil, 1e-3,
				&ops.BatchNormRunning{Mean: runMean, Var: newT(4), Momentum: 0.1, Count: 8})
		}, "batch norm train forward: running var t float32[4] must be float32 [3]"},
		{"train momentum", func(s *engine.Sequence) {
			ops.BatchNormTrainForwardUpdate(s, y, mean, invstd, x, gamma, beta, ops.ActNone, nil, 1e-3,
				&ops.BatchNormRunning{Mean: runMean, Var: runVar, Momentum: 2, Count: 8})
		}, "batch norm train forward: momentum 2 outside [0, 1]"},
		{"train aliased", func(s *engine.Sequence) {
			ops.BatchNormTrainForwardUpdate(s, y, mean, invstd, x, gamma, beta, ops.ActNone, nil, 1e-3,
				&ops.BatchNormRunning{Mean: gamma, Var: runVar, Momentum: 0.1, Count: 8})
		}, "batch norm train forward: running statistic t float32[3] is also an argument of the forward"},
	})
}
