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

// bnShapes are random small shapes (odd H/W, batch 1, channel counts that
// are not multiples of 4, H*W not a multiple of 4) plus real
// EfficientNetV2-S shapes at batch 2 (128x128 input).
func bnShapes(r *rand.Rand) []ref.Shape4 {
	shapes := []ref.Shape4{
		{N: 1, C: 3, H: 1, W: 1}, // one value per channel: variance 0
		{N: 1, C: 5, H: 3, W: 3},
		{N: 2, C: 7, H: 5, W: 3},
		{N: 3, C: 1, H: 1, W: 2},
		{N: 1, C: 6, H: 2, W: 2},
		{N: 2, C: 24, H: 64, W: 64},  // stem / stage 1
		{N: 2, C: 192, H: 16, W: 16}, // stage 3 expansion
		{N: 2, C: 1280, H: 4, W: 4},  // head
	}
	for range 4 {
		shapes = append(shapes, ref.Shape4{N: 1 + r.IntN(3), C: 1 + r.IntN(13), H: 1 + 2*r.IntN(6), W: 1 + r.IntN(11)})
	}
	return shapes
}

// bnInputs holds one test case's host data (float64 copies of exactly the
// float32 values uploaded).
type bnInputs struct {
	xs                  ref.Shape4
	x, gamma, beta, dy  []float64
	x32, g32, b32, dy32 []float32
}

func newBNInputs(r *rand.Rand, xs ref.Shape4) bnInputs {
	in := bnInputs{xs: xs}
	in.x, in.x32 = randSlice(r, xs.Len())
	// Per-channel offsets and scales, so that means are O(1) like real data.
	hw := xs.H * xs.W
	off := make([]float64, xs.C)
	sc := make([]float64, xs.C)
	for c := range off {
		off[c], sc[c] = 4*r.Float64()-2, 0.25+2*r.Float64()
	}
	for i := range in.x {
		c := (i / hw) % xs.C
		in.x32[i] = float32(in.x[i]*sc[c] + off[c])
		in.x[i] = float64(in.x32[i])
	}
	in.gamma, in.g32 = randSlice(r, xs.C)
	in.beta, in.b32 = randSlice(r, xs.C)
	in.dy, in.dy32 = randSlice(r, xs.Len())
	return in
}

func silu(z []float64) []float64 { return ref.SiLUForward(z) }

func TestBatchNormTrainForward(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const eps = 1e-3
	for _, xs := range bnShapes(r) {
		in := newBNInputs(r, xs)
		wantY, wantMean, _, wantInvstd := ref.BatchNormTrainForward(in.x, xs, in.gamma, in.beta, eps)
		x := upload(t, d, "x", in.x32, xs.N, xs.C, xs.H, xs.W)
		gamma := upload(t, d, "gamma", in.g32, xs.C)
		beta := upload(t, d, "beta", in.b32, xs.C)
		mean := poisoned(t, d, "mean", xs.C)
		invstd := poisoned(t, d, "invstd", xs.C)
		y := poisoned(t, d, "y", xs.N, xs.C, xs.H, xs.W)
		ySiLU := poisoned(t, d, "y silu", xs.N, xs.C, xs.H, xs.W)
		s, err := d.NewSequence(t.Name(), engine.SequenceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ops.BatchNormStats(s, mean, invstd, x, eps)
		ops.BatchNormForward(s, y, x, mean, invstd, gamma, beta, ops.ActNone)
		ops.BatchNormForward(s, ySiLU, x, mean, invstd, gamma, beta, ops.ActSiLU)
		var first [4][]float64
		for rep := range 2 {
			if err := d.Run(s); err != nil {
				t.Fatal(err)
			}
			got := [4][]float64{download(t, mean), download(t, invstd), download(t, y), download(t, ySiLU)}
			if rep == 0 {
				first = got
				continue
			}
			for i, what := range []string{"mean", "invstd", "y", "y silu"} {
				sameBits(t, fmt.Sprintf("%v %s", xs, what), first[i], got[i])
			}
		}
		s.Release()
		// A mean near zero, or y = gamma*xhat + beta near zero, is measured
		// against the magnitude of what was added up.
		meanFloor, yFloor := 0.0, 0.0
		hw := xs.H * xs.W
		for i, v := range in.x {
			c := (i / hw) % xs.C
			meanFloor = math.Max(meanFloor, math.Abs(v))
			yFloor = math.Max(yFloor, math.Abs(in.gamma[c]*(v-wantMean[c])*wantInvstd[c])+math.Abs(in.beta[c]))
		}
		compareAtLeast(t, fmt.Sprintf("%v mean", xs), first[0], wantMean, 1e-5, meanFloor)
		compare(t, fmt.Sprintf("%v invstd", xs), first[1], wantInvstd, 1e-5)
		compareAtLeast(t, fmt.Sprintf("%v y", xs), first[2], wantY, 1e-5, yFloor)
		compareAtLeast(t, fmt.Sprintf("%v y silu", xs), first[3], silu(wantY), 1e-5, yFloor)
	}
}

// TestBatchNormStatsStable: x = 1000 + small noise. E[x^2]-E[x]^2 in float32
// would lose every digit of the variance (1e-4 against 1e6); the kernel must
// match the float64 two-pass variance of the same float32 inputs.
func TestBatchNormStatsStable(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const eps = 1e-8
	for _, xs := range []ref.Shape4{{N: 4, C: 3, H: 32, W: 32}, {N: 3, C: 2, H: 7, W: 9}} {
		x64, x32 := randSlice(r, xs.Len())
		for i := range x32 {
			x32[i] = float32(1000 + 0.01*x64[i])
			x64[i] = float64(x32[i])
		}
		ones := make([]float64, xs.C)
		_, wantMean, wantVar, wantInvstd := ref.BatchNormTrainForward(x64, xs, ones, ones, eps)
		x := upload(t, d, "x", x32, xs.N, xs.C, xs.H, xs.W)
		mean := poisoned(t, d, "mean", xs.C)
		invstd := poisoned(t, d, "invstd", xs.C)
		run(t, d, func(s *engine.Sequence) { ops.BatchNormStats(s, mean, invstd, x, eps) })
		compare(t, fmt.Sprintf("%v mean", xs), download(t, mean), wantMean, 1e-6)
		got := download(t, invstd)
		for c := range got {
			gotVar := 1/(got[c]*got[c]) - eps
			if err := enginetest.WithinRel(gotVar, wantVar[c], 1e-5, 0); err != nil {
				t.Errorf("%v channel %d: variance: %v", xs, c, err)
			}
		}
		compare(t, fmt.Sprintf("%v invstd", xs), got, wantInvstd, 1e-5)
	}
}

func TestBatchNormRunningAndEval(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const eps, momentum = 1e-3, 0.1
	for _, xs := range bnShapes(r) {
		count := xs.N * xs.H * xs.W
		if count < 2 {
			continue // the update needs two values per channel (tested in TestBatchNormErrors)
		}
		in := newBNInputs(r, xs)
		_, bMean, bVar, _ := ref.BatchNormTrainForward(in.x, xs, in.gamma, in.beta, eps)
		rm64, rm32, rv64, rv32 := randRunningStats(r, xs.C)
		x := upload(t, d, "x", in.x32, xs.N, xs.C, xs.H, xs.W)
		gamma := upload(t, d, "gamma", in.g32, xs.C)
		beta := upload(t, d, "beta", in.b32, xs.C)
		runMean := upload(t, d, "running mean", rm32, xs.C)
		runVar := upload(t, d, "running var", rv32, xs.C)
		mean := poisoned(t, d, "mean", xs.C)
		invstd := poisoned(t, d, "invstd", xs.C)
		evalMean := poisoned(t, d, "eval mean", xs.C)
		evalInvstd := poisoned(t, d, "eval invstd", xs.C)
		y := poisoned(t, d, "y", xs.N, xs.C, xs.H, xs.W)
		run(t, d, func(s *engine.Sequence) {
			ops.BatchNormStats(s, mean, invstd, x, eps)
			ops.BatchNormUpdateRunning(s, runMean, runVar, mean, invstd, eps, momentum, count)
			ops.BatchNormEvalParams(s, evalMean, evalInvstd, runMean, runVar, eps)
			ops.BatchNormForward(s, y, x, evalMean, evalInvstd, gamma, beta, ops.ActSiLU)
		})
		ref.BatchNormUpdateRunning(rm64, rv64, bMean, bVar, count, momentum)
		compare(t, fmt.Sprintf("%v running mean", xs), download(t, runMean), rm64, 1e-5)
		compare(t, fmt.Sprintf("%v running var", xs), download(t, runVar), rv64, 1e-5)
		want := silu(ref.BatchNormEvalForward(in.x, xs, in.gamma, in.beta, rm64, rv64, eps))
		compare(t, fmt.Sprintf("%v eval y silu", xs), download(t, y), want, 1e-5)
	}
}

func TestBatchNormBackward(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const eps = 1e-3
	for _, xs := range bnShapes(r) {
		in := newBNInputs(r, xs)
		x := upload(t, d, "x", in.x32, xs.N, xs.C, xs.H, xs.W)
		dy := upload(t, d, "dy", in.dy32, xs.N, xs.C, xs.H, xs.W)
		gamma := upload(t, d, "gamma", in.g32, xs.C)
		beta := upload(t, d, "beta", in.b32, xs.C)
		mean := poisoned(t, d, "mean", xs.C)
		invstd := poisoned(t, d, "invstd", xs.C)
		run(t, d, func(s *engine.Sequence) { ops.BatchNormStats(s, mean, invstd, x, eps) })
		// The backward is checked with the saved statistics it is given.
		m64, is64 := download(t, mean), download(t, invstd)
		for _, act := range []ops.Activation{ops.ActNone, ops.ActSiLU} {
			dz := in.dy
			if act == ops.ActSiLU {
				z := make([]float64, xs.Len())
				hw := xs.H * xs.W
				for i := range z {
					c := (i / hw) % xs.C
					z[i] = in.gamma[c]*(in.x[i]-m64[c])*is64[c] + in.beta[c]
				}
				dz = ref.SiLUBackward(in.dy, z)
			}
			wantDx, wantDgamma, wantDbeta := ref.BatchNormBackward(dz, in.x, xs, in.gamma, m64, is64)
			dx := poisoned(t, d, "dx", xs.N, xs.C, xs.H, xs.W)
			dgamma := poisoned(t, d, "dgamma", xs.C)
			dbeta := poisoned(t, d, "dbeta", xs.C)
			s, err := d.NewSequence(t.Name(), engine.SequenceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ops.BatchNormBackward(s, dx, dgamma, dbeta, dy, x, mean, invstd, gamma, beta, act)
			var first [3][]float64
			for rep := range 2 {
				if err := d.Run(s); err != nil {
					t.Fatal(err)
				}
				got := [3][]float64{download(t, dx), download(t, dgamma), download(t, dbeta)}
				if rep == 0 {
					first = got
					continue
				}
				for i, what := range []string{"dx", "dgamma", "dbeta"} {
					sameBits(t, fmt.Sprintf("%v %v %s", xs, act, what), first[i], got[i])
				}
			}
			s.Release()
			fl := newBNBackwardFloors(dz, in.x, xs, in.gamma, m64, is64)
			compareAtLeast(t, fmt.Sprintf("%v %v dx", xs, act), first[0], wantDx, 1e-4, fl.dx)
			compareAtLeast(t, fmt.Sprintf("%v %v dgamma", xs, act), first[1], wantDgamma, 1e-4, fl.dgamma)
			compareAtLeast(t, fmt.Sprintf("%v %v dbeta", xs, act), first[2], wantDbeta, 1e-4, fl.dbeta)
		}
	}
}

// TestBatchNormBackwardFiniteDifference checks a few dx, dgamma and dbeta
// values against central differences of L = sum(dy * silu(BN(x))) computed
// by the GPU forward (stats + normalize) in float32.
func TestBatchNormBackwardFiniteDifference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const eps, h = 1e-3, 1e-2
	xs := ref.Shape4{N: 2, C: 3, H: 3, W: 5}
	in := newBNInputs(r, xs)
	x := upload(t, d, "x", in.x32, xs.N, xs.C, xs.H, xs.W)
	dy := upload(t, d, "dy", in.dy32, xs.N, xs.C, xs.H, xs.W)
	gamma := upload(t, d, "gamma", in.g32, xs.C)
	beta := upload(t, d, "beta", in.b32, xs.C)
	mean := poisoned(t, d, "mean", xs.C)
	invstd := poisoned(t, d, "invstd", xs.C)
	y := poisoned(t, d, "y", xs.N, xs.C, xs.H, xs.W)
	dx := poisoned(t, d, "dx", xs.N, xs.C, xs.H, xs.W)
	dgamma := poisoned(t, d, "dgamma", xs.C)
	dbeta := poisoned(t, d, "dbeta", xs.C)
	fwd, err := d.NewSequence("forward", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fwd.Release()
	ops.BatchNormStats(fwd, mean, invstd, x, eps)
	ops.BatchNormForward(fwd, y, x, mean, invstd, gamma, beta, ops.ActSiLU)
	if err := d.Run(fwd); err != nil {
		t.Fatal(err)
	}
	run(t, d, func(s *engine.Sequence) {
		ops.BatchNormBackward(s, dx, dgamma, dbeta, dy, x, mean, invstd, gamma, beta, ops.ActSiLU)
	})
	grads := map[string][]float64{"x": download(t, dx), "gamma": download(t, dgamma), "beta": download(t, dbeta)}
	loss := func() float64 {
		if err := d.Run(fwd); err != nil {
			t.Fatal(err)
		}
		l := 0.0
		for i, v := range download(t, y) {
			l += in.dy[i] * v
		}
		return l
	}
	probe := func(name string, tensor *engine.Tensor, vals []float32, i int) {
		orig := vals[i]
		at := func(v float32) float64 {
			vals[i] = v
			if err := tensor.Upload(vals); err != nil {
				t.Fatal(err)
			}
			return loss()
		}
		num := (at(orig+h) - at(orig-h)) / (2 * h)
		at(orig)
		if err := enginetest.WithinRel(grads[name][i], num, 2e-2, 1); err != nil {
			t.Errorf("d%s[%d]: kernel against finite difference: %v", name, i, err)
		}
	}
	for _, i := range []int{0, 17, xs.Len() - 1} {
		probe("x", x, in.x32, i)
	}
	probe("gamma", gamma, in.g32, 1)
	probe("beta", beta, in.b32, 2)
}

func TestBatchNormForwardLeavesNeighboursAlone(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	xs := ref.Shape4{N: 1, C: 3, H: 3, W: 3} // 27 values: the last texel is partial
	in := newBNInputs(r, xs)
	x := upload(t, d, "x", in.x32, xs.N, xs.C, xs.H, xs.W)
	gamma := upload(t, d, "gamma", in.g32, xs.C)
	beta := upload(t, d, "beta", in.b32, xs.C)
	mean := poisoned(t, d, "mean", xs.C)
	invstd := poisoned(t, d, "invstd", xs.C)
	whole := poisoned(t, d, "guarded", xs.Len()+64)
	y, err := whole.Slice("y", 0, xs.N, xs.C, xs.H, xs.W)
	if err != nil {
		t.Fatal(err)
	}
	run(t, d, func(s *engine.Sequence) {
		ops.BatchNormStats(s, mean, invstd, x, 1e-3)
		ops.BatchNormForward(s, y, x, mean, invstd, gamma, beta, ops.ActSiLU)
	})
	all := download(t, whole)
	for i, v := range all[xs.Len():] {
		if !math.IsNaN(v) {
			t.Fatalf("value %d past the end of y was overwritten with %v", i, v)
		}
	}
	wantY, _, _, _ := ref.BatchNormTrainForward(in.x, xs, in.gamma, in.beta, 1e-3)
	compare(t, "y", all[:xs.Len()], silu(wantY), 1e-5)
}

func TestBatchNormErrors(t *testing.T) {
	d := enginetest.Open(t)
	newT := func(shape ...int) *engine.Tensor { return poisoned(t, d, "t", shape...) }
	ints := func(shape ...int) *engine.Tensor { return newTensor(t, d, engine.Int32, shape...) }
	x, y, dy := newT(2, 3, 4, 4), newT(2, 3, 4, 4), newT(2, 3, 4, 4)
	mean, invstd, gamma, beta := newT(3), newT(3), newT(3), newT(3)
	dgamma, dbeta, runMean, runVar := newT(3), newT(3), newT(3), newT(3)
	c4 := newT(4)
	flat := newT(96)
	wantRecordErrors(t, d, []errorCase{
		{"stats 2-D x", func(s *engine.Sequence) { ops.BatchNormStats(s, mean, invstd, flat, 1e-3) }, "batch norm stats: t float32[96] must be 4-D"},
		{"stats int x", func(s *engine.Sequence) { ops.BatchNormStats(s, mean, invstd, ints(2, 3, 4, 4), 1e-3) }, "batch norm stats: t int32[2 3 4 4] is int32, want float32"},
		{"stats wrong mean", func(s *engine.Sequence) { ops.BatchNormStats(s, c4, invstd, x, 1e-3) }, "batch norm stats: mean t float32[4] does not fit x"},
		{"stats 2-D invstd", func(s *engine.Sequence) { ops.BatchNormStats(s, mean, newT(3, 1), x, 1e-3) }, "batch norm stats: invstd t float32[3 1] does not fit x"},
		{"stats int mean", func(s *engine.Sequence) { ops.BatchNormStats(s, ints(3), invstd, x, 1e-3) }, "batch norm stats: mean t int32[3] is int32, want float32"},
		{"stats negative eps", func(s *engine.Sequence) { ops.BatchNormStats(s, mean, invstd, x, -1) }, "batch norm stats: eps -1 must be non-negative"},
		{"stats NaN eps", func(s *engine.Sequence) { ops.BatchNormStats(s, mean, invstd, x, float32(math.NaN())) }, "eps NaN must be non-negative"},
		{"forward y shape", func(s *engine.Sequence) {
			ops.BatchNormForward(s, newT(2, 3, 4, 5), x, mean, invstd, gamma, beta, ops.ActNone)
		}, "batch norm forward: y t float32[2 3 4 5] does not match shape [2 3 4 4]"},
		{"forward missing y", func(s *engine.Sequence) {
			ops.BatchNormForward(s, nil, x, mean, invstd, gamma, beta, ops.ActNone)
		}, "batch norm forward: y is missing, want shape [2 3 4 4]"},
		{"forward int y", func(s *engine.Sequence) {
			ops.BatchNormForward(s, ints(2, 3, 4, 4), x, mean, invstd, gamma, beta, ops.ActNone)
		}, "batch norm forward: y t int32[2 3 4 4] is int32, want float32"},
		{"forward activation", func(s *engine.Sequence) { ops.BatchNormForward(s, y, x, mean, invstd, gamma, beta, 7) }, "batch norm forward: unknown activation"},
		{"forward in place", func(s *engine.Sequence) { ops.BatchNormForward(s, x, x, mean, invstd, gamma, beta, ops.ActNone) }, "batch norm forward: y t float32[2 3 4 4] is also x"},
		{"backward gamma", func(s *engine.Sequence) {
			ops.BatchNormBackward(s, y, dgamma, dbeta, dy, x, mean, invstd, c4, beta, ops.ActSiLU)
		}, "batch norm backward: gamma t float32[4] does not fit x"},
		{"backward activation", func(s *engine.Sequence) {
			ops.BatchNormBackward(s, y, dgamma, dbeta, dy, x, mean, invstd, gamma, beta, 9)
		}, "batch norm backward: unknown activation"},
		{"backward dgamma is gamma", func(s *engine.Sequence) {
			ops.BatchNormBackward(s, y, gamma, dbeta, dy, x, mean, invstd, gamma, beta, ops.ActNone)
		}, "batch norm backward: output t float32[3] is also an input"},
		{"update 2-D running mean", func(s *engine.Sequence) {
			ops.BatchNormUpdateRunning(s, newT(3, 1), runVar, mean, invstd, 1e-3, 0.1, 32)
		}, "batch norm update running: running mean t float32[3 1] must be [C]"},
		{"update running var", func(s *engine.Sequence) {
			ops.BatchNormUpdateRunning(s, runMean, c4, mean, invstd, 1e-3, 0.1, 32)
		}, "batch norm update running: running var t float32[4] must be float32 [3]"},
		{"update count", func(s *engine.Sequence) {
			ops.BatchNormUpdateRunning(s, runMean, runVar, mean, invstd, 1e-3, 0.1, 1)
		}, "batch norm update running: count 1"},
		{"update momentum", func(s *engine.Sequence) {
			ops.BatchNormUpdateRunning(s, runMean, runVar, mean, invstd, 1e-3, 0.99+1, 32)
		}, "batch norm update running: momentum 1.99 outside [0, 1]"},
		{"eval nil running mean", func(s *engine.Sequence) { ops.BatchNormEvalParams(s, mean, invstd, nil, runVar, 1e-3) }, "batch norm eval params: running mean <nil> must be [C]"},
		{"eval var", func(s *engine.Sequence) { ops.BatchNormEvalParams(s, mean, invstd, runMean, c4, 1e-3) }, "batch norm eval params: running var t float32[4] must be float32 [3]"},
		{"eval eps", func(s *engine.Sequence) { ops.BatchNormEvalParams(s, mean, invstd, runMean, runVar, -1e-3) }, "batch norm eval params: eps -0.001 must be non-negative"},
	})
}

// BenchmarkBatchNorm times the registered batch-norm and activation cases
// (go test ./ops -run XXX -bench BatchNorm -benchtime 20x).
func BenchmarkBatchNorm(b *testing.B) { benchFamilies(b, "batchnorm", "activation") }

// bnBackwardFloors are the magnitudes of what the batch-norm backward adds
// up, per output: on a small channel the sums may cancel to far below the
// float32 rounding of their terms, which is no error of the kernel.
type bnBackwardFloors struct{ dx, dgamma, dbeta float64 }

// newBNBackwardFloors measures, per channel, the L2 norms of the terms of
// dbeta (dz) and dgamma (dz*xhat), and for dx the largest
// |gamma*invstd| * (|dz| + |mean dz| + |xhat * mean(dz*xhat)|).
func newBNBackwardFloors(dz, x []float64, xs ref.Shape4, gamma, mean, invstd []float64) bnBackwardFloors {
	hw, m := xs.H*xs.W, float64(xs.N*xs.H*xs.W)
	var f bnBackwardFloors
	for c := range xs.C {
		var sdz, sdzx, n2dz, n2dzx float64
		for n := range xs.N {
			for i := range hw {
				k := (n*xs.C+c)*hw + i
				xh := (x[k] - mean[c]) * invstd[c]
				sdz += dz[k]
				sdzx += dz[k] * xh
				n2dz += dz[k] * dz[k]
				n2dzx += dz[k] * xh * dz[k] * xh
			}
		}
		f.dbeta = math.Max(f.dbeta, math.Sqrt(n2dz))
		f.dgamma = math.Max(f.dgamma, math.Sqrt(n2dzx))
		for n := range xs.N {
			for i := range hw {
				k := (n*xs.C+c)*hw + i
				xh := (x[k] - mean[c]) * invstd[c]
				terms := math.Abs(dz[k]) + math.Abs(sdz/m) + math.Abs(xh*sdzx/m)
				f.dx = math.Max(f.dx, math.Abs(gamma[c]*invstd[c])*terms)
			}
		}
	}
	return f
}
