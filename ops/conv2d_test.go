package ops_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// conv2dCase is one convolution geometry under test.
type conv2dCase struct {
	n, c, h, w, oc, k, stride int
}

func (c conv2dCase) String() string {
	return fmt.Sprintf("%dx%dx%dx%d->%d k%d s%d", c.n, c.c, c.h, c.w, c.oc, c.k, c.stride)
}

// conv2dCases returns random small geometries (odd sizes, batch 1, channel
// counts off every tile size, stride 2 with odd inputs, k 1/3/5) and the
// EfficientNetV2-S shapes at batch 2 on a small image.
func conv2dCases(r *rand.Rand) []conv2dCase {
	chans := []int{1, 3, 5, 13, 24}
	pick := func(v []int) int { return v[r.IntN(len(v))] }
	var cases []conv2dCase
	for _, k := range []int{1, 3, 5} {
		for _, stride := range []int{1, 2} {
			cases = append(cases, conv2dCase{
				n: 1 + r.IntN(2), c: pick(chans), h: 2*r.IntN(8) + 3, w: 2*r.IntN(20) + 1,
				oc: pick(chans), k: k, stride: stride,
			})
		}
	}
	// Rows of whole texels (W or OW multiples of 4) take the _vec4 kernels.
	cases = append(cases,
		conv2dCase{n: 1, c: 5, h: 7, w: 12, oc: 11, k: 3, stride: 2}, // W aligned, OW = 6 not
		conv2dCase{n: 1, c: 3, h: 5, w: 8, oc: 13, k: 5, stride: 1},  // pad 2
		conv2dCase{n: 1, c: 2, h: 9, w: 20, oc: 3, k: 7, stride: 1},  // pad 3
		conv2dCase{n: 2, c: 13, h: 5, w: 16, oc: 9, k: 5, stride: 2}, // W and OW aligned
		conv2dCase{n: 1, c: 6, h: 3, w: 8, oc: 10, k: 1, stride: 2},
		conv2dCase{n: 1, c: 3, h: 11, w: 44, oc: 5, k: 3, stride: 1}, // rows longer than a workgroup
		conv2dCase{n: 1, c: 4, h: 7, w: 37, oc: 6, k: 7, stride: 2},
	)
	cases = append(cases,
		conv2dCase{n: 1, c: 3, h: 1, w: 1, oc: 5, k: 3, stride: 2},     // a one-pixel image
		conv2dCase{n: 1, c: 2, h: 6, w: 37, oc: 9, k: 3, stride: 2},    // even input, wide row
		conv2dCase{n: 2, c: 3, h: 32, w: 32, oc: 24, k: 3, stride: 2},  // stem
		conv2dCase{n: 2, c: 24, h: 16, w: 16, oc: 96, k: 3, stride: 1}, // Fused-MBConv expand
		conv2dCase{n: 2, c: 48, h: 9, w: 9, oc: 192, k: 3, stride: 2},  // Fused-MBConv stride 2, odd
	)
	return cases
}

// conv2dRun holds one geometry's device tensors and references.
type conv2dRun struct {
	tc         conv2dCase
	xs, ys     ref.Shape4
	x, w, dy   []float64
	dx, y, dwt *engine.Tensor // outputs (poisoned)
	xt, wt     *engine.Tensor
	dyt, dw    *engine.Tensor
}

func newConv2DRun(t *testing.T, d *engine.Device, r *rand.Rand, tc conv2dCase) *conv2dRun {
	t.Helper()
	cr := &conv2dRun{tc: tc, xs: ref.Shape4{N: tc.n, C: tc.c, H: tc.h, W: tc.w}}
	cr.ys = ref.Shape4{N: tc.n, C: tc.oc, H: ref.ConvOutSize(tc.h, tc.k, tc.stride), W: ref.ConvOutSize(tc.w, tc.k, tc.stride)}
	var x32, w32, dy32 []float32
	cr.x, x32 = randSlice(r, cr.xs.Len())
	cr.w, w32 = randSlice(r, tc.oc*tc.c*tc.k*tc.k)
	cr.dy, dy32 = randSlice(r, cr.ys.Len())
	cr.xt = upload(t, d, "x", x32, tc.n, tc.c, tc.h, tc.w)
	cr.wt = upload(t, d, "w", w32, tc.oc, tc.c, tc.k, tc.k)
	cr.dyt = upload(t, d, "dy", dy32, cr.ys.N, cr.ys.C, cr.ys.H, cr.ys.W)
	cr.y = poisoned(t, d, "y", cr.ys.N, cr.ys.C, cr.ys.H, cr.ys.W)
	cr.dx = poisoned(t, d, "dx", tc.n, tc.c, tc.h, tc.w)
	cr.dw = poisoned(t, d, "dw", tc.oc, tc.c, tc.k, tc.k)
	cr.dwt = poisoned(t, d, "dw chunked", tc.oc, tc.c, tc.k, tc.k)
	return cr
}

// TestConv2D checks forward, backward data and backward weight
// (Conv2DBackwardWeight and chunked) against the float64 reference, and that a replay gives the
// same bits.
func TestConv2D(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, tc := range conv2dCases(r) {
		t.Run(tc.String(), func(t *testing.T) {
			cr := newConv2DRun(t, d, r, tc)
			scratch, err := ops.NewConv2DWeightScratch(d, cr.xt.Shape, cr.wt.Shape, tc.stride)
			if err != nil {
				t.Fatal(err)
			}
			defer scratch.Free()
			s, err := d.NewSequence(t.Name(), engine.SequenceOptions{})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Release()
			ops.Conv2DForward(s, cr.y, cr.xt, cr.wt, tc.stride)
			ops.Conv2DBackwardData(s, cr.dx, cr.dyt, cr.wt, tc.stride)
			ops.Conv2DBackwardWeight(s, cr.dw, cr.xt, cr.dyt, tc.stride)
			ops.Conv2DBackwardWeightChunked(s, cr.dwt, cr.xt, cr.dyt, tc.stride, scratch)
			if err := d.Run(s); err != nil {
				t.Fatal(err)
			}
			wantY, _ := ref.Conv2DForward(cr.x, cr.xs, cr.w, tc.oc, tc.k, tc.stride)
			wantDX := ref.Conv2DBackwardData(cr.dy, cr.ys, cr.w, cr.xs, tc.k, tc.stride)
			wantDW := ref.Conv2DBackwardWeight(cr.x, cr.xs, cr.dy, cr.ys, tc.k, tc.stride)
			y, dx, dw, dwc := download(t, cr.y), download(t, cr.dx), download(t, cr.dw), download(t, cr.dwt)
			compare(t, "forward y", y, wantY, 1e-5)
			compare(t, "backward dx", dx, wantDX, 1e-4)
			compare(t, "backward dw", dw, wantDW, 1e-4)
			compare(t, "backward dw (chunked)", dwc, wantDW, 1e-4)

			if err := d.Run(s); err != nil {
				t.Fatal(err)
			}
			sameBits(t, "forward y", y, download(t, cr.y))
			sameBits(t, "backward dx", dx, download(t, cr.dx))
			sameBits(t, "backward dw", dw, download(t, cr.dw))
			sameBits(t, "backward dw (chunked)", dwc, download(t, cr.dwt))
		})
	}
}

// TestConv2DFiniteDifference checks a few elements of dx and dw against
// central differences of the GPU forward pass of L = sum(y * dy), in float32.
func TestConv2DFiniteDifference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	tc := conv2dCase{n: 1, c: 3, h: 7, w: 9, oc: 5, k: 3, stride: 2}
	cr := newConv2DRun(t, d, r, tc)
	x32, w32 := make([]float32, len(cr.x)), make([]float32, len(cr.w))
	for i := range cr.x {
		x32[i] = float32(cr.x[i])
	}
	for i := range cr.w {
		w32[i] = float32(cr.w[i])
	}
	s, err := d.NewSequence(t.Name(), engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	ops.Conv2DForward(s, cr.y, cr.xt, cr.wt, tc.stride)
	loss := func() float64 {
		if err := cr.xt.Upload(x32); err != nil {
			t.Fatal(err)
		}
		if err := cr.wt.Upload(w32); err != nil {
			t.Fatal(err)
		}
		if err := d.Run(s); err != nil {
			t.Fatal(err)
		}
		sum := 0.0
		for i, v := range download(t, cr.y) {
			sum += v * cr.dy[i]
		}
		return sum
	}
	const eps = 1e-2
	probe := func(what string, v []float32, i int, want float64) {
		old := v[i]
		v[i] = old + eps
		up := loss()
		v[i] = old - eps
		down := loss()
		v[i] = old
		got := (up - down) / (2 * eps)
		if err := enginetest.WithinRel(got, want, 1e-2, 1); err != nil {
			t.Errorf("%s[%d]: finite difference against analytic: %v", what, i, err)
		}
	}
	wantDX := ref.Conv2DBackwardData(cr.dy, cr.ys, cr.w, cr.xs, tc.k, tc.stride)
	wantDW := ref.Conv2DBackwardWeight(cr.x, cr.xs, cr.dy, cr.ys, tc.k, tc.stride)
	for range 3 {
		i := r.IntN(len(x32))
		probe("dx", x32, i, wantDX[i])
		j := r.IntN(len(w32))
		probe("dw", w32, j, wantDW[j])
	}
}

// BenchmarkConv2D times the registered conv2d cases
// (go test ./ops -run XXX -bench Conv2D -benchtime 20x).
func BenchmarkConv2D(b *testing.B) { benchFamilies(b, "conv2d") }

// TestConv2DShapeErrors checks that mismatched tensors and unsupported
// settings become sequence errors naming the operation, not panics.
func TestConv2DShapeErrors(t *testing.T) {
	d := enginetest.Open(t)
	newT := func(shape ...int) *engine.Tensor { return poisoned(t, d, "t", shape...) }
	x, y, w := newT(1, 3, 9, 9), newT(1, 4, 5, 5), newT(4, 3, 3, 3)
	scratch, err := ops.NewConv2DWeightScratch(d, x.Shape, w.Shape, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer scratch.Free()
	wantRecordErrors(t, d, []errorCase{
		{"stride 3", func(s *engine.Sequence) { ops.Conv2DForward(s, y, x, w, 3) }, "conv2d forward: stride 3 is not supported"},
		{"wrong output", func(s *engine.Sequence) { ops.Conv2DForward(s, y, x, w, 1) }, "conv2d forward: y t float32[1 4 5 5] does not match shape [1 4 9 9]"},
		{"even kernel", func(s *engine.Sequence) { ops.Conv2DForward(s, y, x, newT(4, 3, 2, 2), 2) }, "conv2d forward: kernel size 2"},
		{"kernel 9", func(s *engine.Sequence) { ops.Conv2DForward(s, newT(1, 4, 5, 5), x, newT(4, 3, 9, 9), 2) }, "conv2d forward: kernel size 9"},
		{"channels", func(s *engine.Sequence) { ops.Conv2DBackwardData(s, x, y, newT(4, 5, 3, 3), 2) }, "conv2d backward data: w t float32[4 5 3 3] does not fit dx"},
		{"non-square weight", func(s *engine.Sequence) { ops.Conv2DForward(s, y, x, newT(4, 3, 3, 1), 2) }, "conv2d forward: w t float32[4 3 3 1] does not fit x"},
		{"3-D input", func(s *engine.Sequence) { ops.Conv2DBackwardWeight(s, w, newT(3, 9, 9), y, 2) }, "conv2d backward weight: t float32[3 9 9] must be 4-D"},
		{"missing weight", func(s *engine.Sequence) { ops.Conv2DForward(s, y, x, nil, 2) }, "conv2d forward: w <nil> does not fit x"},
		{"missing input", func(s *engine.Sequence) { ops.Conv2DForward(s, y, nil, w, 2) }, "conv2d forward: missing tensor"},
		{"int weight", func(s *engine.Sequence) { ops.Conv2DForward(s, y, x, newTensor(t, d, engine.Int32, 4, 3, 3, 3), 2) }, "conv2d forward: t int32[4 3 3 3] is int32, want float32"},
		{"too many rows", func(s *engine.Sequence) {
			ops.Conv2DForward(s, newTensor(t, d, engine.Float32, 1, 1, 65536, 1), newTensor(t, d, engine.Float32, 1, 1, 65536, 1), newT(1, 1, 1, 1), 1)
		}, "conv2d forward: 65536 image rows (batch 1 x height 65536) exceed the device's 65535 workgroups in y"},
		{"too many channels", func(s *engine.Sequence) {
			const c = 8*65535 + 8
			ops.Conv2DBackwardWeight(s, newTensor(t, d, engine.Float32, 1, c, 1, 1), newTensor(t, d, engine.Float32, 1, c, 1, 1), newT(1, 1, 1, 1), 1)
		}, "conv2d backward weight: 524288 input channels exceed the device's 65535 workgroups in x"},
		{"scratch for stride 1", func(s *engine.Sequence) {
			other, err := ops.NewConv2DWeightScratch(d, x.Shape, w.Shape, 1)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Free()
			ops.Conv2DBackwardWeightChunked(s, w, x, y, 2, other)
		}, "conv2d backward weight (chunked): scratch does not fit"},
		{"nil scratch", func(s *engine.Sequence) { ops.Conv2DBackwardWeightChunked(s, w, x, y, 2, nil) }, "conv2d backward weight (chunked): scratch does not fit"},
	})
	for _, c := range []struct {
		name   string
		x, w   []int
		stride int
		want   string
	}{
		{"3-D input", []int{1, 3, 9}, w.Shape, 1, "do not make a convolution"},
		{"channels", []int{1, 5, 9, 9}, w.Shape, 1, "do not make a convolution"},
		{"stride 0", x.Shape, w.Shape, 0, "do not make a convolution"},
		{"empty dimension", []int{0, 3, 9, 9}, w.Shape, 1, "has an empty dimension"},
	} {
		sc, err := ops.NewConv2DWeightScratch(d, c.x, c.w, c.stride)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("scratch, %s: got %v, want an error containing %q", c.name, err, c.want)
		}
		sc.Free()
	}
}
