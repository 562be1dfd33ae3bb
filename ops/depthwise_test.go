package ops_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
	"github.com/effv2vk/effv2vk/shaders"
)

// depthwiseCase is one depthwise geometry: input shape, kernel size, stride.
type depthwiseCase struct {
	xs        ref.Shape4
	k, stride int
}

func (c depthwiseCase) String() string {
	return fmt.Sprintf("%v k%d s%d", c.xs, c.k, c.stride)
}

// checkDepthwise runs forward, backward data and backward weight of one case
// on the device (each twice, requiring identical bits) and compares them
// with the float64 reference.
func checkDepthwise(t *testing.T, d *engine.Device, r *rand.Rand, c depthwiseCase) {
	t.Helper()
	xs, k := c.xs, c.k
	ys := ref.Shape4{N: xs.N, C: xs.C, H: ref.ConvOutSize(xs.H, k, c.stride), W: ref.ConvOutSize(xs.W, k, c.stride)}
	x64, x32 := randSlice(r, xs.Len())
	w64, w32 := randSlice(r, xs.C*k*k)
	dy64, dy32 := randSlice(r, ys.Len())
	x := upload(t, d, "x", x32, xs.N, xs.C, xs.H, xs.W)
	w := upload(t, d, "w", w32, xs.C, 1, k, k)
	dy := upload(t, d, "dy", dy32, ys.N, ys.C, ys.H, ys.W)

	var got [2][3][]float64
	for rep := range 2 {
		y := poisoned(t, d, "y", ys.N, ys.C, ys.H, ys.W)
		dx := poisoned(t, d, "dx", xs.N, xs.C, xs.H, xs.W)
		dw := poisoned(t, d, "dw", xs.C, 1, k, k)
		run(t, d, func(s *engine.Sequence) {
			ops.DepthwiseForward(s, y, x, w, c.stride)
			ops.DepthwiseBackwardData(s, dx, dy, w, c.stride)
			ops.DepthwiseBackwardWeight(s, dw, x, dy, c.stride)
		})
		got[rep] = [3][]float64{download(t, y), download(t, dx), download(t, dw)}
	}
	wantY, _ := ref.DepthwiseForward(x64, xs, w64, k, c.stride)
	wantDx := ref.DepthwiseBackwardData(dy64, ys, w64, xs, k, c.stride)
	wantDw := ref.DepthwiseBackwardWeight(x64, xs, dy64, ys, k, c.stride)
	compare(t, c.String()+" forward", got[0][0], wantY, 1e-5)
	compare(t, c.String()+" backward data", got[0][1], wantDx, 1e-4)
	compare(t, c.String()+" backward weight", got[0][2], wantDw, 1e-4)
	for i, name := range []string{"forward", "backward data", "backward weight"} {
		sameBits(t, c.String()+" "+name, got[0][i], got[1][i])
	}
}

func TestDepthwiseRandomShapes(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	channels := []int{1, 3, 5, 13}
	for _, k := range []int{3, 5} {
		for _, stride := range []int{1, 2} {
			for i := range 3 {
				c := depthwiseCase{k: k, stride: stride, xs: ref.Shape4{
					N: 1 + r.IntN(3),
					C: channels[r.IntN(len(channels))],
					H: 1 + 2*r.IntN(10), // odd
					W: 1 + r.IntN(21),
				}}
				if i == 0 {
					c.xs.N = 1
				}
				t.Run(c.String(), func(t *testing.T) { checkDepthwise(t, d, r, c) })
			}
		}
	}
}

// TestDepthwiseEdgeShapes covers sizes where the tiles are mostly padding:
// 1x1 images, sizes just past a tile, and stride 2 with odd inputs.
func TestDepthwiseEdgeShapes(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, c := range []depthwiseCase{
		{ref.Shape4{N: 1, C: 1, H: 1, W: 1}, 3, 1},
		{ref.Shape4{N: 1, C: 1, H: 1, W: 1}, 5, 2},
		{ref.Shape4{N: 2, C: 3, H: 9, W: 5}, 3, 2},
		{ref.Shape4{N: 1, C: 5, H: 17, W: 17}, 5, 2},
		{ref.Shape4{N: 1, C: 13, H: 2, W: 9}, 5, 1},
		{ref.Shape4{N: 1, C: 3, H: 6, W: 8}, 5, 1}, // rows of 8: the _u64 backward data kernel
	} {
		t.Run(c.String(), func(t *testing.T) { checkDepthwise(t, d, r, c) })
	}
}

// TestDepthwiseEfficientNetShapes uses the depthwise layers of
// EfficientNetV2-S at a 128x128 input (stages 4-6), batch 2, and one
// stride-2 layer of a 300x300 input (38x38 -> 19x19).
func TestDepthwiseEfficientNetShapes(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, c := range []depthwiseCase{
		{ref.Shape4{N: 2, C: 256, H: 16, W: 16}, 3, 2}, // stage 4, first block
		{ref.Shape4{N: 2, C: 768, H: 8, W: 8}, 3, 1},   // stage 5, first block
		{ref.Shape4{N: 2, C: 960, H: 8, W: 8}, 3, 1},   // stage 5
		{ref.Shape4{N: 2, C: 960, H: 8, W: 8}, 3, 2},   // stage 6, first block
		{ref.Shape4{N: 1, C: 256, H: 38, W: 38}, 3, 2}, // stage 4 at 300x300
	} {
		t.Run(c.String(), func(t *testing.T) { checkDepthwise(t, d, r, c) })
	}
}

// TestDepthwiseFiniteDifferences checks a few gradient entries against a
// central difference of the loss sum(y * dy) through the device forward in
// float32 (hence the loose tolerance).
func TestDepthwiseFiniteDifferences(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const k, stride = 3, 2
	// Rows of 8: on a CPU driver backward data takes its _u64 kernel.
	xs := ref.Shape4{N: 1, C: 3, H: 7, W: 8}
	ys := ref.Shape4{N: 1, C: 3, H: ref.ConvOutSize(xs.H, k, stride), W: ref.ConvOutSize(xs.W, k, stride)}
	_, x32 := randSlice(r, xs.Len())
	_, w32 := randSlice(r, xs.C*k*k)
	dy64, dy32 := randSlice(r, ys.Len())
	x := upload(t, d, "x", x32, xs.N, xs.C, xs.H, xs.W)
	w := upload(t, d, "w", w32, xs.C, 1, k, k)
	dy := upload(t, d, "dy", dy32, ys.N, ys.C, ys.H, ys.W)
	y := poisoned(t, d, "y", ys.N, ys.C, ys.H, ys.W)
	dx := poisoned(t, d, "dx", xs.N, xs.C, xs.H, xs.W)
	dw := poisoned(t, d, "dw", xs.C, 1, k, k)
	run(t, d, func(s *engine.Sequence) {
		ops.DepthwiseBackwardData(s, dx, dy, w, stride)
		ops.DepthwiseBackwardWeight(s, dw, x, dy, stride)
	})
	gx, gw := download(t, dx), download(t, dw)

	fwd, err := d.NewSequence("fd forward", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer fwd.Release()
	ops.DepthwiseForward(fwd, y, x, w, stride)
	loss := func() float64 {
		if err := d.Run(fwd); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for i, v := range download(t, y) {
			sum += v * dy64[i]
		}
		return sum
	}
	const h = 1e-2
	probe := func(what string, tensor *engine.Tensor, vals []float32, i int, grad float64) {
		t.Helper()
		orig := vals[i]
		vals[i] = orig + h
		if err := tensor.Upload(vals); err != nil {
			t.Fatal(err)
		}
		plus := loss()
		vals[i] = orig - h
		if err := tensor.Upload(vals); err != nil {
			t.Fatal(err)
		}
		minus := loss()
		vals[i] = orig
		if err := tensor.Upload(vals); err != nil {
			t.Fatal(err)
		}
		fd := (plus - minus) / (2 * h)
		if err := enginetest.Within(fd, grad, 1e-2*(1+math.Abs(grad))); err != nil {
			t.Errorf("%s[%d]: finite difference against kernel: %v", what, i, err)
		}
	}
	for range 4 {
		i := r.IntN(len(x32))
		probe("dx", x, x32, i, gx[i])
		j := r.IntN(len(w32))
		probe("dw", w, w32, j, gw[j])
	}
}

// TestDepthwiseShapeErrors checks that bad shapes and settings become
// sequence errors naming the operation.
func TestDepthwiseShapeErrors(t *testing.T) {
	d := enginetest.Open(t)
	newT := func(shape ...int) *engine.Tensor { return poisoned(t, d, "t", shape...) }
	x := newT(1, 4, 9, 9)
	y := newT(1, 4, 9, 9)
	w3 := newT(4, 1, 3, 3)
	wantRecordErrors(t, d, []errorCase{
		{"stride 3", func(s *engine.Sequence) { ops.DepthwiseForward(s, y, x, w3, 3) }, "depthwise forward: stride 3 is not supported"},
		{"kernel 4", func(s *engine.Sequence) { ops.DepthwiseForward(s, y, x, newT(4, 1, 4, 4), 1) }, "depthwise forward: kernel size 4"},
		{"kernel 7", func(s *engine.Sequence) { ops.DepthwiseForward(s, y, x, newT(4, 1, 7, 7), 1) }, "depthwise forward: kernel size 7"},
		{"weight channels", func(s *engine.Sequence) { ops.DepthwiseForward(s, y, x, newT(3, 1, 3, 3), 1) }, "depthwise forward: w t float32[3 1 3 3] does not fit x"},
		{"weight groups", func(s *engine.Sequence) { ops.DepthwiseForward(s, y, x, newT(4, 2, 3, 3), 1) }, "depthwise forward: w t float32[4 2 3 3] does not fit x"},
		{"output size", func(s *engine.Sequence) { ops.DepthwiseForward(s, y, x, w3, 2) }, "depthwise forward: y t float32[1 4 9 9] does not match shape [1 4 5 5]"},
		{"dx size", func(s *engine.Sequence) { ops.DepthwiseBackwardData(s, newT(1, 4, 8, 9), y, w3, 1) }, "depthwise backward data: dy t float32[1 4 9 9] does not match shape [1 4 8 9]"},
		{"3-D input", func(s *engine.Sequence) { ops.DepthwiseBackwardWeight(s, w3, newT(4, 9, 9), y, 1) }, "depthwise backward weight: t float32[4 9 9] must be 4-D"},
		{"int dy", func(s *engine.Sequence) {
			ops.DepthwiseBackwardWeight(s, w3, x, newTensor(t, d, engine.Int32, 1, 4, 9, 9), 1)
		}, "depthwise backward weight: t int32[1 4 9 9] is int32, want float32"},
	})
}

// TestDepthwiseKernelsSharePushBlock guards the single Go mirror the
// wrappers use for every depthwise kernel.
func TestDepthwiseKernelsSharePushBlock(t *testing.T) {
	first, err := shaders.Lookup("depthwise_forward_k3_s1")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range shaders.Names() {
		if !strings.HasPrefix(name, "depthwise_") {
			continue
		}
		k, _ := shaders.Lookup(name)
		if !reflect.DeepEqual(k.Push, first.Push) {
			t.Errorf("kernel %s push block %v differs from %s's %v", name, k.Push, first.Name, first.Push)
		}
	}
}

// BenchmarkDepthwise times the registered depthwise cases
// (go test ./ops -run XXX -bench Depthwise -benchtime 20x).
func BenchmarkDepthwise(b *testing.B) { benchFamilies(b, "depthwise") }

// TestTunedDepthwiseVariantsMatchReference forces every variant of the
// three depthwise operations in turn, with the CPU driver's and the GPUs'
// default shapes (ops.GPUChoicesEnv), and checks all three operations
// against the float64 reference (TestTunedVariantsMatchReference's rule
// for the depthwise family); each variant must have been eligible for at
// least one shape and default.
func TestTunedDepthwiseVariantsMatchReference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	cases := []depthwiseCase{
		{ref.Shape4{N: 2, C: 5, H: 17, W: 9}, 3, 1}, // 17 rows: 5, 3 or 2 tiles of 4, 8, 16; 10 planes
		{ref.Shape4{N: 1, C: 3, H: 10, W: 7}, 5, 2},
		{ref.Shape4{N: 2, C: 3, H: 8, W: 12}, 3, 1}, // widths of whole vec4s: vec4 or scalar loads
		{ref.Shape4{N: 1, C: 2, H: 9, W: 16}, 5, 2},
		{ref.Shape4{N: 1, C: 3, H: 11, W: 8}, 3, 2}, // rows of 8: 8-float (u64) or vec4 stores
		{ref.Shape4{N: 1, C: 2, H: 5, W: 16}, 3, 1},
	}
	for op, variants := range ops.TunedVariants() {
		if !strings.HasPrefix(op, "depthwise_") {
			continue
		}
		for _, v := range variants {
			t.Run(op+"/"+v, func(t *testing.T) {
				used := false
				for _, gpu := range []string{"", "1"} {
					t.Setenv(ops.GPUChoicesEnv, gpu)
					forceTuning(t, op, v)
					for _, c := range cases {
						checkDepthwise(t, d, r, c)
					}
					used = used || forcedUsed(d, op, v)
				}
				if !used {
					t.Fatalf("variant %s of %s never eligible for the test shapes: add a shape that exercises it", v, op)
				}
			})
		}
	}
}
