package ops_test

import (
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
	"github.com/effv2vk/effv2vk/shaders"
)

// pointwiseCase is one 1x1 convolution shape: x [n,c,h,w], w [oc,c,1,1].
type pointwiseCase struct{ n, c, oc, h, w int }

// checkPointwise runs forward, backward data and backward weight of one
// shape twice on the device and compares them with the float64 reference
// and with each other (bitwise).
func checkPointwise(t *testing.T, d *engine.Device, r *rand.Rand, pc pointwiseCase) {
	t.Helper()
	xs := ref.Shape4{N: pc.n, C: pc.c, H: pc.h, W: pc.w}
	ys := ref.Shape4{N: pc.n, C: pc.oc, H: pc.h, W: pc.w}
	x64, x32 := randSlice(r, xs.Len())
	w64, w32 := randSlice(r, pc.oc*pc.c)
	dy64, dy32 := randSlice(r, ys.Len())
	x := upload(t, d, "x", x32, pc.n, pc.c, pc.h, pc.w)
	w := upload(t, d, "w", w32, pc.oc, pc.c, 1, 1)
	dy := upload(t, d, "dy", dy32, pc.n, pc.oc, pc.h, pc.w)

	var got [2][3][]float64
	for rep := range got {
		y := poisoned(t, d, "y", pc.n, pc.oc, pc.h, pc.w)
		dx := poisoned(t, d, "dx", pc.n, pc.c, pc.h, pc.w)
		dw := poisoned(t, d, "dw", pc.oc, pc.c, 1, 1)
		run(t, d, func(s *engine.Sequence) {
			ops.PointwiseForward(s, y, x, w)
			ops.PointwiseBackwardData(s, dx, dy, w)
			ops.PointwiseBackwardWeight(s, dw, x, dy)
		})
		got[rep] = [3][]float64{download(t, y), download(t, dx), download(t, dw)}
	}
	wantY, _ := ref.Conv2DForward(x64, xs, w64, pc.oc, 1, 1)
	wantDx := ref.Conv2DBackwardData(dy64, ys, w64, xs, 1, 1)
	wantDw := ref.Conv2DBackwardWeight(x64, xs, dy64, ys, 1, 1)
	compare(t, "forward", got[0][0], wantY, 1e-5)
	compare(t, "backward data", got[0][1], wantDx, 1e-4)
	compare(t, "backward weight", got[0][2], wantDw, 1e-4)
	for i, what := range []string{"forward", "backward data", "backward weight"} {
		sameBits(t, what, got[0][i], got[1][i])
	}
}

// TestPointwiseRandomShapes covers every fetch width and output path:
// channel counts not multiples of 4, H*W of 1 (after pooling), 7x7 and odd
// sizes, batch 1, and reductions longer than one register chunk.
func TestPointwiseRandomShapes(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	channels := []int{3, 5, 17, 24, 96}
	pick := func() int {
		if r.IntN(3) == 0 {
			return 1 + r.IntN(130)
		}
		return channels[r.IntN(len(channels))]
	}
	odd := 1 + 2*r.IntN(6)
	cases := []pointwiseCase{
		{1 + r.IntN(3), pick(), pick(), 1, 1},
		{1 + r.IntN(3), pick(), pick(), 7, 7},
		{1, pick(), pick(), odd, 2 + odd},
		{1 + r.IntN(3), 4 * (1 + r.IntN(30)), 4 * (1 + r.IntN(30)), 4 * (1 + r.IntN(3)), 2 + 2*r.IntN(3)},
		{1 + r.IntN(3), pick(), pick(), 4, 4},
	}
	for _, pc := range cases {
		t.Logf("x [%d,%d,%d,%d], w [%d,%d,1,1]", pc.n, pc.c, pc.h, pc.w, pc.oc, pc.c)
		checkPointwise(t, d, r, pc)
	}
}

// TestPointwiseTilings covers every reduction chunk (KC 8, 16, 24, 32) and
// row-tile count (RT 1 to 4) the wrapper picks, in both directions (the
// forward reduces over C with OC rows, backward data the other way round).
func TestPointwiseTilings(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, pc := range []pointwiseCase{
		{2, 8, 24, 4, 4},  // forward KC 8, RT 3; backward data KC 24, RT 1
		{2, 16, 48, 4, 6}, // forward KC 16, RT 3; backward data KC 24, RT 2
		{1, 64, 32, 3, 5}, // forward KC 32, RT 4; backward data KC 32, RT 4
		{1, 40, 40, 2, 2}, // KC 8 and RT 3 (5 tiles of rows) both ways
	} {
		t.Logf("x [%d,%d,%d,%d], w [%d,%d,1,1]", pc.n, pc.c, pc.h, pc.w, pc.oc, pc.c)
		checkPointwise(t, d, r, pc)
	}
}

// TestPointwiseRealShapes runs EfficientNetV2-S layer shapes at small batch:
// MBConv expand and project at 16x16 (stage 4), the Fused-MBConv project at
// 32x32 (stage 3) and the head at 4x4.
func TestPointwiseRealShapes(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, pc := range []pointwiseCase{
		{1, 128, 512, 16, 16},
		{2, 512, 128, 8, 8},
		{1, 192, 48, 32, 32},
		{2, 256, 1280, 4, 4},
	} {
		t.Logf("x [%d,%d,%d,%d], w [%d,%d,1,1]", pc.n, pc.c, pc.h, pc.w, pc.oc, pc.c)
		checkPointwise(t, d, r, pc)
	}
}

// TestPointwiseFiniteDifferences checks a few gradient elements against
// central differences of the device's own forward: the loss is
// L = sum(y * g) for a fixed random g, so dL/dx = W^T g and dL/dW = g x^T.
func TestPointwiseFiniteDifferences(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const n, c, oc, h, wd = 2, 6, 5, 3, 3
	_, x32 := randSlice(r, n*c*h*wd)
	_, w32 := randSlice(r, oc*c)
	g64, g32 := randSlice(r, n*oc*h*wd)
	x := upload(t, d, "x", x32, n, c, h, wd)
	w := upload(t, d, "w", w32, oc, c, 1, 1)
	g := upload(t, d, "g", g32, n, oc, h, wd)
	y := poisoned(t, d, "y", n, oc, h, wd)
	dx := poisoned(t, d, "dx", n, c, h, wd)
	dw := poisoned(t, d, "dw", oc, c, 1, 1)
	run(t, d, func(s *engine.Sequence) {
		ops.PointwiseBackwardData(s, dx, g, w)
		ops.PointwiseBackwardWeight(s, dw, x, g)
	})
	gotDx, gotDw := download(t, dx), download(t, dw)

	fwd, err := d.NewSequence("forward", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fwd.Release()
	ops.PointwiseForward(fwd, y, x, w)
	loss := func() float64 {
		if err := d.Run(fwd); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for i, v := range download(t, y) {
			sum += v * g64[i]
		}
		return sum
	}
	const step = 1e-2
	probe := func(what string, param *engine.Tensor, vals []float32, i int, analytic float64) {
		t.Helper()
		num := centralDifference(t, loss, param, vals, i, step)
		// float32 forward sums of ~30 terms: differences are good to ~1e-3.
		if err := enginetest.WithinRel(num, analytic, 2e-3, 1); err != nil {
			t.Errorf("%s[%d]: finite difference against backward: %v", what, i, err)
		}
	}
	for range 3 {
		i := r.IntN(len(x32))
		probe("dx", x, x32, i, gotDx[i])
		j := r.IntN(len(w32))
		probe("dw", w, w32, j, gotDw[j])
	}
}

// TestPointwiseShapeErrors checks that mismatched tensors are reported by
// Finish with the operation's name, not a panic or a dispatch.
func TestPointwiseShapeErrors(t *testing.T) {
	d := enginetest.Open(t)
	mk := func(shape ...int) *engine.Tensor { return poisoned(t, d, "t", shape...) }
	x, w, y := mk(2, 8, 5, 5), mk(16, 8, 1, 1), mk(2, 16, 5, 5)
	wantRecordErrors(t, d, []errorCase{
		{"3x3 weight", func(s *engine.Sequence) { ops.PointwiseForward(s, y, x, mk(16, 8, 3, 3)) }, "pointwise forward: w t float32[16 8 3 3] does not fit x"},
		{"missing weight", func(s *engine.Sequence) { ops.PointwiseForward(s, y, x, nil) }, "pointwise forward: w <nil> does not fit x"},
		{"wrong channels", func(s *engine.Sequence) { ops.PointwiseForward(s, y, mk(2, 7, 5, 5), w) }, "pointwise forward: w t float32[16 8 1 1] does not fit x"},
		{"wrong y", func(s *engine.Sequence) { ops.PointwiseForward(s, mk(2, 15, 5, 5), x, w) }, "pointwise forward: y t float32[2 15 5 5] does not match shape [2 16 5 5]"},
		{"wrong dx size", func(s *engine.Sequence) { ops.PointwiseBackwardData(s, mk(2, 8, 4, 5), y, w) }, "pointwise backward data: dy t float32[2 16 5 5] does not match shape [2 16 4 5]"},
		{"wrong dw", func(s *engine.Sequence) { ops.PointwiseBackwardWeight(s, mk(16, 9, 1, 1), x, y) }, "pointwise backward weight: dw t float32[16 9 1 1] does not fit x"},
		{"3-D x", func(s *engine.Sequence) { ops.PointwiseBackwardWeight(s, w, mk(2, 8, 25), y) }, "pointwise backward weight: t float32[2 8 25] must be 4-D"},
		{"int x", func(s *engine.Sequence) { ops.PointwiseForward(s, y, newTensor(t, d, engine.Int32, 2, 8, 5, 5), w) }, "pointwise forward: t int32[2 8 5 5] is int32, want float32"},
	})
}

// TestPointwisePushBlocks checks that the four pointwise kernels declare the
// same push-constant block, since ops records all of them with one mirror.
func TestPointwisePushBlocks(t *testing.T) {
	base, err := shaders.Lookup("pointwise_nn")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"pointwise_nn_v4", "pointwise_nt", "pointwise_nt_v4"} {
		k, err := shaders.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(k.Push, base.Push) || k.PushSize != base.PushSize {
			t.Errorf("%s push block %v differs from pointwise_nn's %v", name, k.Push, base.Push)
		}
	}
}

// BenchmarkPointwise times the registered 1x1 cases
// (go test ./ops -run XXX -bench Pointwise -benchtime 20x).
func BenchmarkPointwise(b *testing.B) { benchFamilies(b, "pointwise") }
