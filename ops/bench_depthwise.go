package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// Depthwise benchmarks at EfficientNetV2-S shapes, batch 8, 128x128 input:
// 3x3 on 768 channels at 16x16 (expanded 128*6), 3x3 stride 2 on 256
// channels 16x16 -> 8x8 (first block of stage 4, 64*4) and 3x3 on 960
// channels at 8x8 (160*6). Work is bytes read + written once.
func init() {
	for _, c := range []struct {
		n, c, h, w, k, stride int
	}{
		{8, 768, 16, 16, 3, 1},
		{8, 256, 16, 16, 3, 2},
		{8, 960, 8, 8, 3, 1},
	} {
		registerDepthwiseBenches(c.n, c.c, c.h, c.w, c.k, c.stride)
	}
}

// registerDepthwiseBenches registers forward, backward data and backward
// weight of one depthwise layer.
func registerDepthwiseBenches(n, c, h, w, k, stride int) {
	oh, ow := ConvOutSize(h, k, stride), ConvOutSize(w, k, stride)
	shape := fmt.Sprintf("[%d,%d,%d,%d] k%d s%d -> %dx%d", n, c, h, w, k, stride, oh, ow)
	name := fmt.Sprintf("dw%dx%d s%d %dch @%dx%d", k, k, stride, c, h, w)
	in, out, wt := 4.0*float64(n*c*h*w), 4.0*float64(n*c*oh*ow), 4.0*float64(c*k*k)
	alloc := func(d *engine.Device, ts *[]*engine.Tensor, nm string, seed uint64, shape ...int) (*engine.Tensor, error) {
		t, err := RandomTensor(d, nm, seed, shape...)
		if err == nil {
			*ts = append(*ts, t)
		}
		return t, err
	}
	type tensors struct{ img, out, wt *engine.Tensor }
	setup := func(d *engine.Device) (tensors, func(), error) {
		var ts []*engine.Tensor
		free := func() {
			for _, t := range ts {
				t.Free()
			}
		}
		var t tensors
		var err error
		if t.img, err = alloc(d, &ts, "img", 1, n, c, h, w); err != nil {
			free()
			return t, nil, err
		}
		if t.out, err = alloc(d, &ts, "out", 2, n, c, oh, ow); err != nil {
			free()
			return t, nil, err
		}
		if t.wt, err = alloc(d, &ts, "w", 3, c, 1, k, k); err != nil {
			free()
			return t, nil, err
		}
		return t, free, nil
	}
	RegisterBench(BenchCase{
		Name: name + " fwd", Op: "depthwise", Shape: shape, Unit: GBs, Work: in + wt + out,
		Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
			t, free, err := setup(d)
			if err == nil {
				DepthwiseForward(s, t.out, t.img, t.wt, stride)
			}
			return free, err
		},
	})
	RegisterBench(BenchCase{
		Name: name + " bwd data", Op: "depthwise", Shape: shape, Unit: GBs, Work: out + wt + in,
		Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
			t, free, err := setup(d)
			if err == nil {
				DepthwiseBackwardData(s, t.img, t.out, t.wt, stride)
			}
			return free, err
		},
	})
	RegisterBench(BenchCase{
		Name: name + " bwd weight", Op: "depthwise", Shape: shape, Unit: GBs, Work: in + out + wt,
		Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
			t, free, err := setup(d)
			if err == nil {
				DepthwiseBackwardWeight(s, t.wt, t.img, t.out, stride)
			}
			return free, err
		},
	})
}
