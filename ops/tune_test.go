package ops_test

import (
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// forceTuning forces op's variant (tuning itself stays off: nothing is
// timed, nothing is written to a cache).
func forceTuning(t *testing.T, op, variant string) {
	t.Setenv(engine.TuneEnv, "off")
	t.Setenv(engine.TuneForceEnv, op+"="+variant)
	t.Cleanup(engine.SetTuneWarnings(io.Discard)) // "not eligible at this shape"
}

// forcedUsed reports whether d's tuner recorded op with variant because it
// was forced.
func forcedUsed(d *engine.Device, op, variant string) bool {
	for _, r := range d.TuneResults() {
		if r.Op == op && r.Variant == variant && r.Source == "forced" {
			return true
		}
	}
	return false
}

// TestTunedVariantsMatchReference forces every variant of every autotuned
// operation in turn and checks its result against the float64 reference,
// so the tuner cannot pick a wrong kernel; each variant must have been
// eligible (and used) for at least one of the shapes.
func TestTunedVariantsMatchReference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	variants := ops.TunedVariants()
	if len(variants) == 0 {
		t.Fatal("no autotuned operation registered")
	}
	pointwise := []pointwiseCase{
		{n: 2, c: 40, oc: 40, h: 5, w: 4}, // 5 row tiles: every row-tile variant, vec4 output
		{n: 1, c: 13, oc: 9, h: 3, w: 3},  // odd sizes, scalar fetches
		{n: 2, c: 20, oc: 12, h: 8, w: 8}, // N*H*W 128: the weight gradient's GEMM splits in two
	}
	for _, op := range []string{"pointwise_forward", "pointwise_backward_data", "pointwise_backward_weight"} {
		for _, v := range variants[op] {
			t.Run(op+"/"+v, func(t *testing.T) {
				forceTuning(t, op, v)
				gpuShapedForGEMM(t, v)
				for _, pc := range pointwise {
					checkPointwise(t, d, r, pc)
				}
				if strings.HasSuffix(v, "_splitk") {
					x, dy, dw := poisoned(t, d, "x", 2, 20, 8, 8), poisoned(t, d, "dy", 2, 12, 8, 8), poisoned(t, d, "dw", 12, 20, 1, 1)
					wantSplitGEMM(t, d, v, func(s *engine.Sequence) { ops.PointwiseBackwardWeight(s, dw, x, dy) })
				}
				if !forcedUsed(d, op, v) {
					t.Fatalf("variant %s of %s never eligible for the test shapes: add a shape that exercises it", v, op)
				}
			})
		}
	}
	linears := []struct {
		n, in, out int
		bias       bool
	}{
		{n: 5, in: 64, out: 7, bias: true},  // 16 texels a row: lanes 1, 2, 8 besides auto (4 at subgroup 8)
		{n: 3, in: 33, out: 5},              // unaligned, 9 texels: lanes 4 and 8 besides auto
		{n: 2, in: 8, out: 3, bias: true},   // 2 texels
		{n: 3, in: 260, out: 6, bias: true}, // the flat GEMM tile's reduction splits in two
	}
	for _, v := range variants["linear_forward"] {
		t.Run("linear_forward/"+v, func(t *testing.T) {
			forceTuning(t, "linear_forward", v)
			gpuShapedForGEMM(t, v)
			for _, c := range linears {
				x64, x32 := randSlice(r, c.n*c.in)
				w64, w32 := randSlice(r, c.out*c.in)
				x, w := upload(t, d, "x", x32, c.n, c.in), upload(t, d, "w", w32, c.out, c.in)
				var b64 []float64
				var b *engine.Tensor
				if c.bias {
					var b32 []float32
					b64, b32 = randSlice(r, c.out)
					b = upload(t, d, "b", b32, c.out)
				}
				y := poisoned(t, d, "y", c.n, c.out)
				run(t, d, func(s *engine.Sequence) { ops.LinearForward(s, y, x, w, b) })
				compare(t, fmt.Sprintf("linear %+v", c), download(t, y), ref.LinearForward(x64, c.n, c.in, w64, b64, c.out), 1e-5)
			}
			if strings.HasSuffix(v, "_splitk") {
				x, w, b, y := poisoned(t, d, "x", 3, 260), poisoned(t, d, "w", 6, 260), poisoned(t, d, "b", 6), poisoned(t, d, "y", 3, 6)
				wantSplitGEMM(t, d, v, func(s *engine.Sequence) { ops.LinearForward(s, y, x, w, b) })
			}
			var lanes uint32
			if _, err := fmt.Sscanf(v, "lanes%d", &lanes); err == nil && lanes > d.Info.SubgroupSize {
				t.Logf("%s does not fit this device's %d-wide subgroups", v, d.Info.SubgroupSize)
				return
			}
			if !forcedUsed(d, "linear_forward", v) {
				t.Fatalf("variant %s of linear_forward never eligible for the test shapes: add a shape that exercises it", v)
			}
		})
	}
	backward := []struct{ n, in, out int }{
		{n: 5, in: 64, out: 20}, // every batch-tile variant
		{n: 9, in: 8, out: 4},   // two batch tiles of 8 (three of 4), the second partial
		{n: 3, in: 33, out: 5},  // unaligned: the row kernels only
		{n: 3, in: 24, out: 8},  // one batch tile at every subgroup width (columns)
	}
	for _, v := range variants["linear_backward"] {
		t.Run("linear_backward/"+v, func(t *testing.T) {
			forceTuning(t, "linear_backward", v)
			for _, c := range backward {
				x64, x32 := randSlice(r, c.n*c.in)
				w64, w32 := randSlice(r, c.out*c.in)
				dy64, dy32 := randSlice(r, c.n*c.out)
				x, w, dy := upload(t, d, "x", x32, c.n, c.in), upload(t, d, "w", w32, c.out, c.in), upload(t, d, "dy", dy32, c.n, c.out)
				dx, dw, db := poisoned(t, d, "dx", c.n, c.in), poisoned(t, d, "dw", c.out, c.in), poisoned(t, d, "db", c.out)
				run(t, d, func(s *engine.Sequence) { ops.LinearBackward(s, dx, dw, db, dy, x, w) })
				wantDx, wantDw, wantDb := ref.LinearBackward(dy64, x64, c.n, c.in, w64, c.out)
				name := fmt.Sprintf("linear backward %+v", c)
				compare(t, name+" dx", download(t, dx), wantDx, 1e-4)
				compare(t, name+" dw", download(t, dw), wantDw, 1e-4)
				compare(t, name+" db", download(t, db), wantDb, 1e-4)
			}
			if !forcedUsed(d, "linear_backward", v) {
				t.Fatalf("variant %s of linear_backward never eligible for the test shapes: add a shape that exercises it", v)
			}
		})
	}
	convs := []conv2dCase{
		{n: 2, c: 5, h: 9, w: 9, oc: 7, k: 3, stride: 1},
		{n: 2, c: 5, h: 9, w: 8, oc: 7, k: 3, stride: 2},
		{n: 4, c: 16, h: 20, w: 20, oc: 24, k: 3, stride: 1}, // split64 differs from split_auto
		{n: 1, c: 3, h: 11, w: 7, oc: 9, k: 5, stride: 2},
		{n: 2, c: 4, h: 17, w: 16, oc: 6, k: 3, stride: 2}, // stride 2 with 144 output pixels: a split GEMM
		{n: 3, c: 1, h: 9, w: 13, oc: 10, k: 3, stride: 1}, // one input channel: the stem variants at stride 1
	}
	// Operations whose variants this test checks below, or another test
	// names: every other autotuned operation is an error here.
	checkedElsewhere := map[string]bool{
		"linear_forward":          true,
		"conv2d_backward_weight":  true,
		"conv2d_forward":          true, // tune_conv2d_test.go
		"conv2d_backward_data":    true, // tune_conv2d_test.go
		"batchnorm_train_forward": true,
		"linear_backward":         true,
		"prepare_input":           true, // input_test.go
	}
	checkedElsewhere["squeeze_excite_mlp_forward"] = true  // squeeze_excite_mlp_test.go
	checkedElsewhere["squeeze_excite_mlp_backward"] = true // squeeze_excite_mlp_test.go
	for op := range variants {
		if !strings.HasPrefix(op, "pointwise_") && !strings.HasPrefix(op, "depthwise_") && !checkedElsewhere[op] {
			t.Errorf("autotuned operation %s has no reference check here: add one", op)
		}
	}
	for _, v := range variants["batchnorm_train_forward"] {
		t.Run("batchnorm_train_forward/"+v, func(t *testing.T) {
			forceTuning(t, "batchnorm_train_forward", v)
			checkTunedBNTrainForward(t, d, r, v)
		})
	}
	const op = "conv2d_backward_weight"
	for _, v := range variants[op] {
		t.Run(op+"/"+v, func(t *testing.T) {
			forceTuning(t, op, v)
			gpuShapedForGEMM(t, v)
			used := false
			for _, tc := range convs {
				used = checkTunedConvWeight(t, d, r, tc, v) || used
			}
			if !used || !forcedUsed(d, op, v) {
				t.Fatalf("variant %s of %s never eligible for the test shapes: add a shape that exercises it", v, op)
			}
		})
	}
}

// gpuShapedForGEMM sets ops.GPUChoicesEnv to "1" for a variant of the
// GEMM family (named "gemm..."), which is eligible only on GPU-shaped
// devices: on lavapipe the test then runs it too.
func gpuShapedForGEMM(t *testing.T, variant string) {
	if strings.HasPrefix(variant, "gemm") {
		t.Setenv(ops.GPUChoicesEnv, "1")
	}
}

// wantSplitGEMM checks that record, one call whose reduction variant
// splits, records two dispatches: the GEMM's pieces, then their sum.
func wantSplitGEMM(t *testing.T, d *engine.Device, variant string, record func(s *engine.Sequence)) {
	t.Helper()
	var dispatches int
	run(t, d, func(s *engine.Sequence) {
		record(s)
		dispatches = s.Dispatches()
	})
	if dispatches != 2 {
		t.Errorf("%s: %d dispatches, want 2 (split-K pieces, then their sum)", variant, dispatches)
	}
}

// TestGEMMVariantsOnlyOnGPUShapedDevices: without ops.GPUChoicesEnv a
// forced GEMM-family variant is not eligible on a CPU driver (the
// built-in choice records the call), and is on a GPU.
func TestGEMMVariantsOnlyOnGPUShapedDevices(t *testing.T) {
	t.Setenv(ops.GPUChoicesEnv, "")
	forceTuning(t, "pointwise_forward", "gemm64")
	d := enginetest.Open(t)
	checkPointwise(t, d, testRand(t), pointwiseCase{n: 2, c: 40, oc: 40, h: 5, w: 4})
	if used, gpu := forcedUsed(d, "pointwise_forward", "gemm64"), d.Info.Type != engine.CPU; used != gpu {
		t.Fatalf("forced gemm64 on a %s device used: %v, want %v", d.Info.Type, used, gpu)
	}
}

// checkTunedConvWeight plans and records one weight gradient and compares
// it with the reference; with variant "single" or "stem_single" it must be one dispatch
// and no partial sums, with a split two dispatches. It reports whether
// the variant was eligible (so forced) at this shape.
func checkTunedConvWeight(t *testing.T, d *engine.Device, r *rand.Rand, tc conv2dCase, variant string) bool {
	t.Helper()
	cr := newConv2DRun(t, d, r, tc)
	sc, err := ops.PlanConv2DWeightGradient(d, cr.xt.Shape, cr.wt.Shape, tc.stride)
	if err != nil {
		t.Fatal(err)
	}
	defer sc.Free()
	var dispatches int
	run(t, d, func(s *engine.Sequence) {
		ops.Conv2DBackwardWeightChunked(s, cr.dw, cr.xt, cr.dyt, tc.stride, sc)
		dispatches = s.Dispatches()
	})
	want := ref.Conv2DBackwardWeight(cr.x, cr.xs, cr.dy, cr.ys, tc.k, tc.stride)
	compare(t, fmt.Sprintf("%v dw (%d chunks)", tc, sc.Chunks()), download(t, cr.dw), want, 1e-4)
	shape := fmt.Sprintf("x=%v w=%v stride=%d", cr.xt.Shape, cr.wt.Shape, tc.stride)
	shape = strings.ReplaceAll(strings.ReplaceAll(shape, ",", " "), "  ", " ")
	forced := false
	for _, res := range d.TuneResults() {
		forced = forced || (res.Op == "conv2d_backward_weight" && res.Shape == shape && res.Source == "forced" && res.Variant == variant)
	}
	onePass := variant == "single" || variant == "stem_single"
	if (variant == "single" || forced && onePass) && (sc.Chunks() != 1 || dispatches != 1) {
		t.Errorf("%v %s: %d chunks, %d dispatches, want one pass", tc, variant, sc.Chunks(), dispatches)
	}
	if forced && !onePass && (sc.Chunks() < 2 || dispatches != 2) {
		t.Errorf("%v %s: %d chunks, %d dispatches, want a split (partial sums, then their sum)", tc, variant, sc.Chunks(), dispatches)
	}
	return forced
}

// TestTuneOffGivesDeviceDefaults: with tuning off the weight gradient is
// planned as today's fixed rule says: one pass on a CPU driver, the GPU's
// split (NewConv2DWeightScratch's chunks) under EFFV2VK_GPU_CHOICES=1.
func TestTuneOffGivesDeviceDefaults(t *testing.T) {
	t.Setenv(engine.TuneEnv, "off")
	t.Setenv(engine.TuneForceEnv, "")
	x, w := []int{4, 16, 20, 20}, []int{24, 16, 3, 3}
	for _, gpu := range []string{"", "1"} {
		t.Run("gpu_choices="+gpu, func(t *testing.T) {
			t.Setenv(ops.GPUChoicesEnv, gpu)
			d := enginetest.Open(t)
			sc, err := ops.PlanConv2DWeightGradient(d, x, w, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer sc.Free()
			ref, err := ops.NewConv2DWeightScratch(d, x, w, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer ref.Free()
			want := 1
			if ops.ChunkedWeightGradients(d) {
				want = ref.Chunks()
			}
			if sc.Chunks() != want {
				t.Fatalf("tuning off on %s (%s=%q): %d chunks, want %d", d.Info.Type, ops.GPUChoicesEnv, gpu, sc.Chunks(), want)
			}
			res := d.TuneResults()
			if len(res) != 1 || res[0].Source != "default" || res[0].Variant != res[0].Default {
				t.Fatalf("tuning off: decisions %+v, want the default", res)
			}
		})
	}
}
