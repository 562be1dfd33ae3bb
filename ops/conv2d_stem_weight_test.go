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

// stemWeightCases are few-input-channel convolutions for the stem weight
// gradient: C 1, 3 and 4, stride 1 and 2, odd sizes, batch 1 and 3, row
// counts that no chunk count divides, k 1, 3 and 5, output channels off
// every lane count.
var stemWeightCases = []conv2dCase{
	{n: 1, c: 3, h: 13, w: 11, oc: 24, k: 3, stride: 2},
	{n: 3, c: 1, h: 9, w: 15, oc: 7, k: 3, stride: 1},
	{n: 3, c: 4, h: 7, w: 10, oc: 17, k: 3, stride: 2},
	{n: 1, c: 3, h: 11, w: 9, oc: 5, k: 5, stride: 2},
	{n: 2, c: 1, h: 6, w: 5, oc: 3, k: 1, stride: 1},
	{n: 2, c: 3, h: 16, w: 16, oc: 24, k: 3, stride: 2}, // the stem's shape, small
	// Rows of whole texels (the _x4 kernel's): a step past the row's end
	// (OW 20 at 16 pixels a step), stride 1, k 5 and 1.
	{n: 1, c: 3, h: 10, w: 40, oc: 24, k: 3, stride: 2},
	{n: 2, c: 3, h: 7, w: 12, oc: 10, k: 3, stride: 1},
	{n: 1, c: 1, h: 9, w: 24, oc: 9, k: 5, stride: 2},
	{n: 2, c: 4, h: 5, w: 8, oc: 11, k: 1, stride: 1},
}

// stemWeightEligible reports whether the stem weight-gradient variant v
// can record tc: the _x4 variants need rows of whole vec4 texels, the
// o3c1 ones (three output channels of one input channel per lane) at most
// 36 sums per lane.
func stemWeightEligible(v string, tc conv2dCase) bool {
	ow := (tc.w+2*((tc.k-1)/2)-tc.k)/tc.stride + 1
	if strings.Contains(v, "_x4") && (tc.w%4 != 0 || ow%4 != 0) {
		return false
	}
	return !strings.Contains(v, "o3c1") || 3*tc.k*tc.k <= 36
}

// forcedUsedAt reports whether d's tuner recorded op with the forced
// variant at the input shape x (n, c, h, w).
func forcedUsedAt(d *engine.Device, op, variant string, tc conv2dCase) bool {
	x := fmt.Sprintf("x=[%d %d %d %d] ", tc.n, tc.c, tc.h, tc.w)
	for _, r := range d.TuneResults() {
		if r.Op == op && r.Variant == variant && r.Source == "forced" && strings.HasPrefix(r.Shape, x) {
			return true
		}
	}
	return false
}

// TestConv2DStemWeight checks every stem weight-gradient variant (forced
// through the tuner, so each must be eligible here) and the routed one-pass
// and chunked calls against the float64 reference, and that a replay
// repeats the bits.
func TestConv2DStemWeight(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	variants := []string{""} // "": the routed Conv2DBackwardWeight and Conv2DBackwardWeightChunked
	for _, v := range ops.TunedVariants()["conv2d_backward_weight"] {
		if strings.HasPrefix(v, "stem_") {
			variants = append(variants, v)
		}
	}
	if len(variants) < 2 {
		t.Fatal("no stem variant of conv2d_backward_weight is registered")
	}
	for _, v := range variants {
		for _, tc := range stemWeightCases {
			if v != "" && !stemWeightEligible(v, tc) {
				continue // not eligible: the tuner keeps another variant
			}
			t.Run(fmt.Sprintf("%s/%v", v, tc), func(t *testing.T) {
				if v != "" {
					forceTuning(t, "conv2d_backward_weight", v)
				}
				cr := newConv2DRun(t, d, r, tc)
				plan := ops.PlanConv2DWeightGradient
				if v == "" {
					plan = ops.NewConv2DWeightScratch
				}
				sc, err := plan(d, cr.xt.Shape, cr.wt.Shape, tc.stride)
				if err != nil {
					t.Fatal(err)
				}
				defer sc.Free()
				s, err := d.NewSequence(t.Name(), engine.SequenceOptions{})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Release()
				if v == "" {
					ops.Conv2DBackwardWeight(s, cr.dw, cr.xt, cr.dyt, tc.stride)
				}
				ops.Conv2DBackwardWeightChunked(s, cr.dwt, cr.xt, cr.dyt, tc.stride, sc)
				if err := d.Run(s); err != nil {
					t.Fatal(err)
				}
				if v != "" && !forcedUsedAt(d, "conv2d_backward_weight", v, tc) {
					t.Fatalf("variant %s not eligible at %v", v, tc)
				}
				want := ref.Conv2DBackwardWeight(cr.x, cr.xs, cr.dy, cr.ys, tc.k, tc.stride)
				dwc := download(t, cr.dwt)
				compare(t, "dw (chunked)", dwc, want, 1e-4)
				var dw []float64
				if v == "" {
					dw = download(t, cr.dw)
					compare(t, "dw", dw, want, 1e-4)
				}
				if err := d.Run(s); err != nil {
					t.Fatal(err)
				}
				sameBits(t, "dw (chunked)", dwc, download(t, cr.dwt))
				if v == "" {
					sameBits(t, "dw", dw, download(t, cr.dw))
				}
			})
		}
	}
}
