package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// Batch-norm and activation benchmarks at EfficientNetV2-S shapes, batch 8,
// 128x128 input: BN+SiLU on [8,96,64,64] (stage 2's first expansion, 24*4),
// BN on [8,768,16,16] (stage 5's expansion, 128*6) and SiLU on
// [8,96,64,64].
//
// Work counts the bytes each kernel really moves, every pass counted
// (per-channel parameters are negligible and left out), S being the tensor's
// size:
//   - train forward = stats (reads x) + normalize (reads x, writes y): 3S,
//     also in one call (BatchNormTrainForward, whose second read of x
//     often hits the cache);
//   - backward: pass 1 reads x and dy, pass 2 reads them again and writes
//     dx: 5S (the second reads often hit the cache);
//   - normalize alone (eval mode): 2S; stats alone: S;
//   - SiLU forward 2S, backward (reads dy, x; writes dx) 3S.
func init() {
	registerBatchNormBenches(8, 96, 64, 64, ActSiLU)
	registerBatchNormBenches(8, 768, 16, 16, ActNone)
	registerSiLUBenches(8, 96, 64, 64)
}

// benchTensors allocates random tensors for a bench case and frees them all
// at once.
type benchTensors struct {
	d  *engine.Device
	ts []*engine.Tensor
}

func (b *benchTensors) add(name string, shape ...int) (*engine.Tensor, error) {
	t, err := RandomTensor(b.d, name, uint64(len(b.ts)+1), shape...)
	if err == nil {
		b.ts = append(b.ts, t)
	}
	return t, err
}

func (b *benchTensors) free() {
	for _, t := range b.ts {
		t.Free()
	}
}

// allocAll allocates one tensor per shape, in order.
func (b *benchTensors) allocAll(shapes ...[]int) ([]*engine.Tensor, error) {
	out := make([]*engine.Tensor, len(shapes))
	for i, sh := range shapes {
		t, err := b.add(fmt.Sprintf("t%d", i), sh...)
		if err != nil {
			b.free()
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

func registerBatchNormBenches(n, c, h, w int, act Activation) {
	size := 4.0 * float64(n*c*h*w)
	img, ch := []int{n, c, h, w}, []int{c}
	label := "bn"
	if act == ActSiLU {
		label = "bn+silu"
	}
	name := fmt.Sprintf("%s %dch @%dx%d", label, c, h, w)
	shape := fmt.Sprintf("[%d,%d,%d,%d]", n, c, h, w)
	const eps = 1e-3
	add := func(suffix string, work float64, rec func(s *engine.Sequence, t []*engine.Tensor)) {
		RegisterBench(BenchCase{
			Name: name + " " + suffix, Op: "batchnorm", Shape: shape, Unit: GBs, Work: work,
			Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
				b := &benchTensors{d: d}
				// x, y/dx, dy, mean, invstd, gamma, beta, dgamma, dbeta
				t, err := b.allocAll(img, img, img, ch, ch, ch, ch, ch, ch)
				if err != nil {
					return nil, err
				}
				rec(s, t)
				return b.free, nil
			},
		})
	}
	add("train fwd (stats+normalize)", 3*size, func(s *engine.Sequence, t []*engine.Tensor) {
		BatchNormStats(s, t[3], t[4], t[0], eps)
		BatchNormForward(s, t[1], t[0], t[3], t[4], t[5], t[6], act)
	})
	add("train fwd (one call)", 3*size, func(s *engine.Sequence, t []*engine.Tensor) {
		BatchNormTrainForward(s, t[1], t[3], t[4], t[0], t[5], t[6], act, nil, eps)
	})
	add("stats", size, func(s *engine.Sequence, t []*engine.Tensor) {
		BatchNormStats(s, t[3], t[4], t[0], eps)
	})
	add("normalize", 2*size, func(s *engine.Sequence, t []*engine.Tensor) {
		BatchNormForward(s, t[1], t[0], t[3], t[4], t[5], t[6], act)
	})
	add("bwd", 5*size, func(s *engine.Sequence, t []*engine.Tensor) {
		BatchNormBackward(s, t[1], t[7], t[8], t[2], t[0], t[3], t[4], t[5], t[6], act)
	})
}

func registerSiLUBenches(n, c, h, w int) {
	size := 4.0 * float64(n*c*h*w)
	img := []int{n, c, h, w}
	shape := fmt.Sprintf("[%d,%d,%d,%d]", n, c, h, w)
	add := func(suffix string, work float64, rec func(s *engine.Sequence, t []*engine.Tensor)) {
		RegisterBench(BenchCase{
			Name: fmt.Sprintf("silu %dch @%dx%d %s", c, h, w, suffix), Op: "activation", Shape: shape, Unit: GBs, Work: work,
			Setup: func(d *engine.Device, s *engine.Sequence) (func(), error) {
				b := &benchTensors{d: d}
				t, err := b.allocAll(img, img, img)
				if err != nil {
					return nil, err
				}
				rec(s, t)
				return b.free, nil
			},
		})
	}
	add("fwd", 2*size, func(s *engine.Sequence, t []*engine.Tensor) { SiLUForward(s, t[1], t[0]) })
	add("bwd", 3*size, func(s *engine.Sequence, t []*engine.Tensor) { SiLUBackward(s, t[2], t[1], t[0]) })
}
