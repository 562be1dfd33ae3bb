package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// Benchmarks of the squeeze-excite, classifier, input, dropout and
// reduction kernels at EfficientNetV2-S shapes, batch 8, 128x128 input (the
// pool and channel scale at the [8,768,16,16] shape of the kernel brief).
// Work counts bytes read and written once (GB/s), or 2 flops per
// multiply-add for the fully connected layers (GFLOP/s).
func init() {
	const n = 8
	img := []int{n, 768, 16, 16}
	s, nc := 4.0*float64(n*768*16*16), 4.0*float64(n*768)
	miscBench("global avg pool fwd", "squeeze_excite", img, GBs, s+nc, [][]int{{n, 768}, img},
		func(sq *engine.Sequence, t []*engine.Tensor) { GlobalAvgPoolForward(sq, t[0], t[1]) })
	miscBench("global avg pool bwd", "squeeze_excite", img, GBs, nc+s, [][]int{img, {n, 768}},
		func(sq *engine.Sequence, t []*engine.Tensor) { GlobalAvgPoolBackward(sq, t[0], t[1]) })
	miscBench("channel scale fwd", "squeeze_excite", img, GBs, 2*s+nc, [][]int{img, img, {n, 768}},
		func(sq *engine.Sequence, t []*engine.Tensor) { ChannelScaleForward(sq, t[0], t[1], t[2]) })
	miscBench("channel scale bwd", "squeeze_excite", img, GBs, 3*s+2*nc, [][]int{img, {n, 768}, img, img, {n, 768}},
		func(sq *engine.Sequence, t []*engine.Tensor) { ChannelScaleBackward(sq, t[0], t[1], t[2], t[3], t[4]) })
	for _, fc := range [][2]int{{768, 32}, {32, 768}, {1280, 1000}} {
		in, out := fc[0], fc[1]
		flops := 2.0 * float64(n*in*out)
		name := fmt.Sprintf("linear %d->%d", in, out)
		miscBench(name+" fwd", "squeeze_excite", []int{n, in, out}, GFLOPs, flops, [][]int{{n, out}, {n, in}, {out, in}, {out}},
			func(sq *engine.Sequence, t []*engine.Tensor) { LinearForward(sq, t[0], t[1], t[2], t[3]) })
		miscBench(name+" bwd", "squeeze_excite", []int{n, in, out}, GFLOPs, 2*flops, [][]int{{n, in}, {out, in}, {out}, {n, out}, {n, in}, {out, in}},
			func(sq *engine.Sequence, t []*engine.Tensor) { LinearBackward(sq, t[0], t[1], t[2], t[3], t[4], t[5]) })
	}
	{
		// The squeeze-excite gate fused (fc1 + SiLU + fc2 + sigmoid), the
		// same 768<->32 linears: 2 flops per multiply-add of both layers,
		// four products backward (dpooled, da1, dw1, dw2).
		c, q := 768, 32
		flops := 2.0 * float64(n*c*q) * 2
		miscBench("squeeze-excite gate 768->32->768 fwd", "squeeze_excite", []int{n, c, q}, GFLOPs, flops,
			[][]int{{n, q}, {n, q}, {n, c}, {n, c}, {q, c}, {q}, {c, q}, {c}},
			func(sq *engine.Sequence, t []*engine.Tensor) {
				SqueezeExciteMLPForward(sq, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7])
			})
		miscBench("squeeze-excite gate 768->32->768 bwd", "squeeze_excite", []int{n, c, q}, GFLOPs, 2*flops,
			[][]int{{n, c}, {q, c}, {q}, {c, q}, {c}, {n, c}, {n, q}, {n, c}, {n, c}, {n, q}, {n, q}, {n, c}, {q, c}, {c, q}},
			func(sq *engine.Sequence, t []*engine.Tensor) {
				SqueezeExciteMLPBackward(sq, t[0], t[1], t[2], t[3], t[4], t[5], t[6], t[7], t[8], t[9], t[10], t[11], t[12], t[13])
			})
	}
	miscBench("softmax cross entropy", "classifier", []int{n, 1000}, GBs, 2*4.0*n*1000, [][]int{{1}, {2}, {n, 1000}, {n, 1000}, {n, 1000}},
		func(sq *engine.Sequence, t []*engine.Tensor) {
			SoftmaxCrossEntropySoft(sq, t[0], t[1], t[2], t[3], t[4])
		})
	for _, src := range [][]int{{n, 28, 28, 1}, {n, 224, 224, 3}} {
		bytes := float64(src[0]*src[1]*src[2]*src[3]) + 4.0*n*3*128*128
		RegisterBench(BenchCase{
			Name: fmt.Sprintf("prepare input %dx%dx%d -> 3x128x128", src[1], src[2], src[3]), Op: "input",
			Shape: fmt.Sprint(src), Unit: GBs, Work: bytes,
			Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
				u, err := d.NewTensor("src", engine.Uint8, src...)
				if err != nil {
					return nil, err
				}
				pix := make([]uint8, u.Len())
				for i := range pix {
					pix[i] = uint8(i * 37)
				}
				y, err := d.NewTensor("y", engine.Float32, n, 3, 128, 128)
				if err != nil {
					u.Free()
					return nil, err
				}
				cleanup := func() { u.Free(); y.Free() }
				if err := u.Upload(pix); err != nil {
					cleanup()
					return nil, err
				}
				PrepareInput(s, y, u, [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225})
				return cleanup, nil
			},
		})
	}
	drop := []int{n, 48, 32, 32}
	ds := 4.0 * float64(n*48*32*32)
	RegisterBench(BenchCase{
		Name: "drop path 48ch @32x32", Op: "dropout", Shape: fmt.Sprint(drop), Unit: GBs, Work: 2 * ds,
		Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
			t, err := miscTensors(d, [][]int{drop, drop})
			if err != nil {
				return nil, err
			}
			rng, err := NewRNGState(d, 1)
			if err != nil {
				miscFree(t)
				return nil, err
			}
			DropPathForward(s, t[0], t[1], rng, 0.8, 0)
			return func() { miscFree(t); rng.Free() }, nil
		},
	})
	const params = 21458488 // EfficientNetV2-S, as one gradient arena
	RegisterBench(BenchCase{
		Name: "grad norm 21.5M", Op: "reduce", Shape: "[21458488]", Unit: GBs, Work: 4 * params,
		Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
			t, err := miscTensors(d, [][]int{{1}, {params}})
			if err != nil {
				return nil, err
			}
			scratch, err := NewReduceScratch(d, t[1])
			if err != nil {
				miscFree(t)
				return nil, err
			}
			GradNorm(s, t[0], scratch, t[1])
			return func() { miscFree(t); scratch.Free() }, nil
		},
	})
}

// miscBench registers a case whose tensors (random float32, in the given
// shapes) are passed to rec in order.
func miscBench(name, op string, shape []int, unit BenchUnit, work float64, shapes [][]int, rec func(s *engine.Sequence, t []*engine.Tensor)) {
	RegisterBench(BenchCase{
		Name: name, Op: op, Shape: fmt.Sprint(shape), Unit: unit, Work: work,
		Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
			t, err := miscTensors(d, shapes)
			if err != nil {
				return nil, err
			}
			rec(s, t)
			return func() { miscFree(t) }, nil
		},
	})
}

// miscTensors allocates one random float32 tensor per shape.
func miscTensors(d *engine.Device, shapes [][]int) ([]*engine.Tensor, error) {
	out := make([]*engine.Tensor, 0, len(shapes))
	for i, sh := range shapes {
		t, err := RandomTensor(d, fmt.Sprintf("bench%d", i), uint64(i+1), sh...)
		if err != nil {
			miscFree(out)
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func miscFree(ts []*engine.Tensor) {
	for _, t := range ts {
		t.Free()
	}
}
