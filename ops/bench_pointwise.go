package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// Pointwise (1x1 convolution) benchmarks at EfficientNetV2-S shapes, batch
// 8, 128x128 input: MBConv expand 128->512 and project 512->128 at 16x16
// (stage 4), the Fused-MBConv project of the stride-2 stage at 32x32
// (192->48) and the head 256->1280 at 4x4. Work is 2 flops per multiply-add.
func init() {
	for _, c := range []struct{ n, c, oc, h, w int }{
		{8, 128, 512, 16, 16},
		{8, 512, 128, 16, 16},
		{8, 192, 48, 32, 32},
		{8, 256, 1280, 4, 4},
	} {
		registerPointwiseBenches(c.n, c.c, c.oc, c.h, c.w)
	}
}

// registerPointwiseBenches registers forward, backward data and backward
// weight of one 1x1 convolution x [n,c,h,w] -> y [n,oc,h,w].
func registerPointwiseBenches(n, c, oc, h, w int) {
	shape := fmt.Sprintf("[%d,%d,%d,%d] -> [%d,%d,%d,%d]", n, c, h, w, n, oc, h, w)
	name := fmt.Sprintf("1x1 %d->%d @%dx%d", c, oc, h, w)
	flops := 2 * float64(n*h*w) * float64(c*oc)
	type tensors struct{ x, y, w *engine.Tensor }
	setup := func(d *engine.Device) (tensors, func(), error) {
		var t tensors
		var made []*engine.Tensor
		free := func() {
			for _, x := range made {
				x.Free()
			}
		}
		for i, p := range []struct {
			dst   **engine.Tensor
			name  string
			shape []int
		}{
			{&t.x, "x", []int{n, c, h, w}},
			{&t.y, "y", []int{n, oc, h, w}},
			{&t.w, "w", []int{oc, c, 1, 1}},
		} {
			x, err := RandomTensor(d, p.name, uint64(i+1), p.shape...)
			if err != nil {
				free()
				return t, nil, err
			}
			made = append(made, x)
			*p.dst = x
		}
		return t, free, nil
	}
	for _, v := range []struct {
		suffix string
		record func(s *engine.Sequence, t tensors)
	}{
		{"fwd", func(s *engine.Sequence, t tensors) { PointwiseForward(s, t.y, t.x, t.w) }},
		{"bwd data", func(s *engine.Sequence, t tensors) { PointwiseBackwardData(s, t.x, t.y, t.w) }},
		{"bwd weight", func(s *engine.Sequence, t tensors) { PointwiseBackwardWeight(s, t.w, t.x, t.y) }},
	} {
		RegisterBench(BenchCase{
			Name: name + " " + v.suffix, Op: "pointwise", Shape: shape, Unit: GFLOPs, Work: flops,
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
