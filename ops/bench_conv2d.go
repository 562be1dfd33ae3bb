package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// Convolution benchmarks at EfficientNetV2-S shapes, batch 8, 128x128 input:
// the stem (3x3 stride 2, 3->24 on 128x128), a Fused-MBConv expansion 3x3
// 24->96 at 64x64 and 3x3 48->192 at 32x32. Work is 2 flops per
// multiply-add, N*OC*OH*OW*C*K*K of them, in every direction.
func init() {
	for _, c := range []struct {
		name                      string
		n, c, h, w, oc, k, stride int
	}{
		{"stem", 8, 3, 128, 128, 24, 3, 2},
		{"fused", 8, 24, 64, 64, 96, 3, 1},
		{"fused", 8, 48, 32, 32, 192, 3, 1},
	} {
		registerConv2DBenches(c.name, c.n, c.c, c.h, c.w, c.oc, c.k, c.stride)
	}
}

// registerConv2DBenches registers forward, backward data and backward
// weight (Conv2DBackwardWeight without a caller's scratch, chunked into
// NewConv2DWeightScratch's chunks, and as the autotuner plans it for
// training: PlanConv2DWeightGradient) of one convolution layer.
func registerConv2DBenches(label string, n, c, h, w, oc, k, stride int) {
	oh, ow := ConvOutSize(h, k, stride), ConvOutSize(w, k, stride)
	shape := fmt.Sprintf("[%d,%d,%d,%d] -> [%d,%d,%d,%d] k%d s%d", n, c, h, w, n, oc, oh, ow, k, stride)
	name := fmt.Sprintf("conv%dx%d %s %d->%d s%d @%dx%d", k, k, label, c, oc, stride, h, w)
	flops := 2 * float64(n*oc*oh*ow) * float64(c*k*k)
	type tensors struct {
		img, out, wt   *engine.Tensor
		scratch, tuned *Conv2DWeightScratch
	}
	setup := func(d *engine.Device) (tensors, func(), error) {
		var t tensors
		var ts []*engine.Tensor
		free := func() {
			for _, x := range ts {
				x.Free()
			}
			t.scratch.Free()
			t.tuned.Free()
		}
		for i, p := range []struct {
			dst   **engine.Tensor
			name  string
			shape []int
		}{
			{&t.img, "img", []int{n, c, h, w}},
			{&t.out, "out", []int{n, oc, oh, ow}},
			{&t.wt, "w", []int{oc, c, k, k}},
		} {
			x, err := RandomTensor(d, p.name, uint64(i+1), p.shape...)
			if err != nil {
				free()
				return t, nil, err
			}
			ts = append(ts, x)
			*p.dst = x
		}
		var err error
		if t.scratch, err = NewConv2DWeightScratch(d, t.img.Shape, t.wt.Shape, stride); err != nil {
			free()
			return t, nil, err
		}
		if t.tuned, err = PlanConv2DWeightGradient(d, t.img.Shape, t.wt.Shape, stride); err != nil {
			free()
			return t, nil, err
		}
		return t, free, nil
	}
	for _, v := range []struct {
		suffix string
		record func(s *engine.Sequence, t tensors)
	}{
		{"fwd", func(s *engine.Sequence, t tensors) { Conv2DForward(s, t.out, t.img, t.wt, stride) }},
		{"bwd data", func(s *engine.Sequence, t tensors) { Conv2DBackwardData(s, t.img, t.out, t.wt, stride) }},
		{"bwd weight", func(s *engine.Sequence, t tensors) { Conv2DBackwardWeight(s, t.wt, t.img, t.out, stride) }},
		{"bwd weight chunked", func(s *engine.Sequence, t tensors) {
			Conv2DBackwardWeightChunked(s, t.wt, t.img, t.out, stride, t.scratch)
		}},
		{"bwd weight tuned", func(s *engine.Sequence, t tensors) {
			Conv2DBackwardWeightChunked(s, t.wt, t.img, t.out, stride, t.tuned)
		}},
	} {
		RegisterBench(BenchCase{
			Name: name + " " + v.suffix, Op: "conv2d", Shape: shape, Unit: GFLOPs, Work: flops,
			Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
				t, free, err := setup(d)
				if err == nil {
					v.record(s, t)
				}
				return free, err
			},
		})
	}
}
