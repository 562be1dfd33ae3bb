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
				if v != "" && !forcedUsed(d, "conv2d_backward_weight", v) {
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
