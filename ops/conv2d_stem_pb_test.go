package ops_test

import (
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
)

// TestConv2DStemParityBlockedBitwise checks that the stem backward data
// summed by parity class (the _kb variants, with the output channels in
// groups or not: the _og variants) equals the tap-by-tap kernel
// bit for bit: every sum runs over the same terms in the same order (the
// float64 reference check is TestTunedConv2DTilesMatchReference's).
func TestConv2DStemParityBlockedBitwise(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	cases := []conv2dCase{
		{n: 1, c: 3, h: 10, w: 40, oc: 12, k: 3, stride: 2}, // 20 columns: a group past the row's end
		{n: 3, c: 1, h: 7, w: 16, oc: 5, k: 5, stride: 1},
	}
	const op = "conv2d_backward_data"
	for _, tc := range cases {
		cr := newConv2DRun(t, d, r, tc)
		dx := func(variant string) []float64 {
			forceTuning(t, op, variant)
			run(t, d, func(s *engine.Sequence) { ops.Conv2DBackwardData(s, cr.dx, cr.dyt, cr.wt, tc.stride) })
			if !forcedUsed(d, op, variant) {
				t.Fatalf("%v: variant %s not eligible", tc, variant)
			}
			return download(t, cr.dx)
		}
		want := dx("stem_px8_rows4_dy4_u64")
		for _, v := range []string{"stem_px8_rows4_dy4_u64_kb2", "stem_px8_rows4_dy4_u64_kb4", "stem_px8_rows4_dy4_u64_kb8",
			"stem_px8_rows4_dy4_u64_kb4_og8"} {
			got := dx(v)
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("%v %s: dx[%d] = %v, the tap-by-tap kernel %v", tc, v, i, got[i], want[i])
				}
			}
		}
	}
}
