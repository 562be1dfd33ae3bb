package ops_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// TestBackwardDataAddVariants forces each variant of the conv2d and
// pointwise backward data (but the GEMM and stem families', which take no addend)
// with an addend: dx = data gradient + addend must match the float64
// reference and have the bits of the data gradient followed by ops.Add,
// recorded beside it, in one dispatch (per residue) fewer.
func TestBackwardDataAddVariants(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	conv := []conv2dCase{
		{n: 2, c: 6, h: 9, w: 24, oc: 9, k: 3, stride: 1},
		{n: 1, c: 9, h: 7, w: 37, oc: 11, k: 3, stride: 1},
		{n: 2, c: 5, h: 11, w: 13, oc: 7, k: 3, stride: 2},  // four residues, odd sizes
		{n: 2, c: 3, h: 16, w: 16, oc: 24, k: 3, stride: 2}, // the stem's shape: its kernels take no addend
	}
	pointwise := []conv2dCase{
		{n: 2, c: 40, oc: 40, h: 5, w: 4, k: 1, stride: 1}, // vec4 output, 5 row tiles
		{n: 1, c: 13, oc: 9, h: 3, w: 3, k: 1, stride: 1},  // odd sizes, scalar fetches and output
		{n: 2, c: 24, oc: 96, h: 8, w: 8, k: 1, stride: 1}, // an MBConv expansion's shape
	}
	variants := ops.TunedVariants()
	for _, op := range []string{"conv2d_backward_data", "pointwise_backward_data"} {
		for _, v := range variants[op] {
			if strings.HasPrefix(v, "gemm") || strings.HasPrefix(v, "stem") {
				continue // neither family takes an addend: never eligible with one
			}
			t.Run(op+"/"+v, func(t *testing.T) {
				forceTuning(t, op, v)
				cases := conv
				if op == "pointwise_backward_data" {
					cases = pointwise
				}
				for _, tc := range cases {
					checkBackwardDataAdd(t, d, newConv2DRun(t, d, r, tc), op == "pointwise_backward_data")
				}
				if !forcedUsed(d, op, v) {
					t.Fatalf("variant %s of %s never eligible for the test shapes", v, op)
				}
			})
		}
	}
}

// checkBackwardDataAdd checks one backward data with an addend against the
// reference and against the separate sum.
func checkBackwardDataAdd(t *testing.T, d *engine.Device, cr *conv2dRun, pointwise bool) {
	t.Helper()
	tc := cr.tc
	r := testRand(t)
	add64, add32 := randSlice(r, cr.xs.Len())
	addend := upload(t, d, "addend", add32, tc.n, tc.c, tc.h, tc.w)
	sum := poisoned(t, d, "dx plus addend", tc.n, tc.c, tc.h, tc.w)
	added := poisoned(t, d, "dx, then add", tc.n, tc.c, tc.h, tc.w)
	var fused, separate int
	run(t, d, func(s *engine.Sequence) {
		if pointwise {
			ops.PointwiseBackwardDataAdd(s, sum, cr.dyt, cr.wt, addend)
		} else {
			ops.Conv2DBackwardDataAdd(s, sum, cr.dyt, cr.wt, tc.stride, addend)
		}
		fused = s.Dispatches()
		if pointwise {
			ops.PointwiseBackwardData(s, cr.dx, cr.dyt, cr.wt)
		} else {
			ops.Conv2DBackwardData(s, cr.dx, cr.dyt, cr.wt, tc.stride)
		}
		ops.Add(s, added, cr.dx, addend)
		separate = s.Dispatches() - fused
	})
	if fused != separate-1 {
		t.Errorf("%v: %d dispatches with the addend, %d separate: want one fewer", tc, fused, separate)
	}
	got := download(t, sum)
	sameBits(t, fmt.Sprintf("%v dx + addend against the separate sum", tc), got, download(t, added))
	want := ref.Conv2DBackwardData(cr.dy, cr.ys, cr.w, cr.xs, tc.k, tc.stride)
	for i := range want {
		want[i] += add64[i]
	}
	compare(t, fmt.Sprintf("%v dx + addend", tc), got, want, 1e-4)
}

// TestBackwardDataAddErrors checks that a bad addend is refused with a
// message naming it.
func TestBackwardDataAddErrors(t *testing.T) {
	d := enginetest.Open(t)
	newT := func(shape ...int) *engine.Tensor { return poisoned(t, d, "t", shape...) }
	dx, dy := newT(2, 3, 4, 4), newT(2, 5, 4, 4)
	w1, w3 := newT(5, 3, 1, 1), newT(5, 3, 3, 3)
	wantRecordErrors(t, d, []errorCase{
		{"pointwise missing addend", func(s *engine.Sequence) { ops.PointwiseBackwardDataAdd(s, dx, dy, w1, nil) }, "pointwise backward data add: missing addend"},
		{"pointwise addend shape", func(s *engine.Sequence) { ops.PointwiseBackwardDataAdd(s, dx, dy, w1, newT(2, 3, 4, 5)) }, "pointwise backward data: addend t float32[2 3 4 5] does not match shape [2 3 4 4]"},
		{"pointwise addend is dx", func(s *engine.Sequence) { ops.PointwiseBackwardDataAdd(s, dx, dy, w1, dx) }, "pointwise backward data: addend t float32[2 3 4 4] is also an operand"},
		{"conv missing addend", func(s *engine.Sequence) { ops.Conv2DBackwardDataAdd(s, dx, dy, w3, 1, nil) }, "conv2d backward data add: missing addend"},
		{"conv addend shape", func(s *engine.Sequence) { ops.Conv2DBackwardDataAdd(s, dx, dy, w3, 1, newT(3, 4, 4)) }, "conv2d backward data: addend t float32[3 4 4] does not match"},
	})
}
