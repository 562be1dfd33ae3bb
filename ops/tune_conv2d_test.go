package ops_test

import (
	"fmt"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

// TestTunedConv2DTilesMatchReference forces every variant (pixel tile,
// rows per cluster, unrolled channels) of the conv2d forward and backward
// data in turn and checks the result against the float64 reference at
// shapes whose rows, columns and channels are off every tile (odd sizes,
// stride 2, the stem's 3 channels), so the tuner cannot pick a wrong
// kernel; every variant must be eligible for at least one shape.
func TestTunedConv2DTilesMatchReference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	cases := []conv2dCase{
		{n: 2, c: 3, h: 13, w: 21, oc: 10, k: 3, stride: 2}, // the stem's channels: unrolled variants
		{n: 1, c: 9, h: 7, w: 37, oc: 11, k: 3, stride: 1},  // 7 rows: a partial last row block
		{n: 3, c: 4, h: 6, w: 5, oc: 5, k: 5, stride: 1},
		{n: 2, c: 6, h: 9, w: 24, oc: 9, k: 3, stride: 1},   // rows of whole vec4s (the _vec4 forward)
		{n: 1, c: 3, h: 10, w: 40, oc: 12, k: 3, stride: 2}, // 20 columns: a vec4 past the row's end at px8
		{n: 3, c: 1, h: 7, w: 16, oc: 5, k: 5, stride: 1},   // stem texels 2 columns off a vec4, u64 stores
		{n: 1, c: 3, h: 5, w: 32, oc: 7, k: 3, stride: 2},   // stem x4_u64 forward at stride 2
		{n: 3, c: 4, h: 11, w: 39, oc: 9, k: 3, stride: 2},  // stem dy4 with an odd input
	}
	variants := ops.TunedVariants()
	for _, op := range []string{"conv2d_forward", "conv2d_backward_data"} {
		if len(variants[op]) < 2 {
			t.Fatalf("%s has %d variants, want the pixel and row tiles", op, len(variants[op]))
		}
		for _, v := range variants[op] {
			t.Run(op+"/"+v, func(t *testing.T) {
				forceTuning(t, op, v)
				for _, tc := range cases {
					cr := newConv2DRun(t, d, r, tc)
					if op == "conv2d_forward" {
						run(t, d, func(s *engine.Sequence) { ops.Conv2DForward(s, cr.y, cr.xt, cr.wt, tc.stride) })
						want, _ := ref.Conv2DForward(cr.x, cr.xs, cr.w, tc.oc, tc.k, tc.stride)
						compare(t, fmt.Sprintf("%v y", tc), download(t, cr.y), want, 1e-5)
						continue
					}
					run(t, d, func(s *engine.Sequence) { ops.Conv2DBackwardData(s, cr.dx, cr.dyt, cr.wt, tc.stride) })
					want := ref.Conv2DBackwardData(cr.dy, cr.ys, cr.w, cr.xs, tc.k, tc.stride)
					compare(t, fmt.Sprintf("%v dx", tc), download(t, cr.dx), want, 1e-4)
				}
				if !forcedUsed(d, op, v) {
					t.Fatalf("variant %s of %s never eligible for the test shapes: add a shape that exercises it", v, op)
				}
			})
		}
	}
}
