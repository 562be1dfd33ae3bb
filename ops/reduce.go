package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// reduceChunk is how many texels (four floats each) one workgroup of the
// first reduction pass adds into one partial sum.
const reduceChunk = 1024

// reducePartials is the number of partial sums a tensor of n elements needs.
func reducePartials(n int) int { return ceilDiv(ceilDiv(n, 4), reduceChunk) }

// ReduceScratch holds the partial sums of Sum, Mean and GradNorm: the first
// pass writes one partial per 4096 elements, the second adds them in order.
// Make one per sequence (or reuse one across the reductions of a sequence;
// the engine orders the reuses) and free it with Free.
type ReduceScratch struct {
	partials *engine.Tensor
}

// NewReduceScratch allocates scratch large enough for one reduction over all
// of xs together (so also for any one of them).
func NewReduceScratch(d *engine.Device, xs ...*engine.Tensor) (*ReduceScratch, error) {
	count := 0
	for i, x := range xs {
		if x == nil {
			return nil, fmt.Errorf("ops: reduce scratch: tensor %d is nil", i)
		}
		count += reducePartials(x.Len())
	}
	p, err := d.NewTensor("reduce partials", engine.Float32, max(count, 1))
	if err != nil {
		return nil, fmt.Errorf("ops: reduce scratch for %d tensors: %w", len(xs), err)
	}
	return &ReduceScratch{partials: p}, nil
}

// Free releases the scratch memory.
func (r *ReduceScratch) Free() {
	if r != nil {
		r.partials.Free()
	}
}

// Sum records out[0] = sum_i x[i] (float32 x, out [1]), in a fixed order.
func Sum(s *engine.Sequence, out *engine.Tensor, scratch *ReduceScratch, x *engine.Tensor) {
	reduce(s, "sum", out, scratch, false, 1, false, []*engine.Tensor{x})
}

// Mean records out[0] = (1/len(x)) sum_i x[i] (float32 x, out [1]), in a
// fixed order.
func Mean(s *engine.Sequence, out *engine.Tensor, scratch *ReduceScratch, x *engine.Tensor) {
	if x == nil {
		s.Fail(fmt.Errorf("mean: missing tensor"))
		return
	}
	reduce(s, "mean", out, scratch, false, 1/float32(x.Len()), false, []*engine.Tensor{x})
}

// GradNorm records the L2 norm of all of xs taken as one vector (float32
// tensors, out [1]), as used for gradient-norm logging and clipping:
//
//	out[0] = sqrt(sum_x sum_i x[i]^2)
//
// Each tensor costs one dispatch (each followed by a barrier, as they write
// one scratch buffer), so pass a few large tensors (e.g. a gradient arena)
// rather than hundreds of small ones.
func GradNorm(s *engine.Sequence, out *engine.Tensor, scratch *ReduceScratch, xs ...*engine.Tensor) {
	reduce(s, "grad norm", out, scratch, true, 1, true, xs)
}

// reduce records the two passes: partial sums of (squares of) each of xs,
// then out[0] = scale * total, or its square root.
func reduce(s *engine.Sequence, op string, out *engine.Tensor, scratch *ReduceScratch, squares bool, scale float32, sqrt bool, xs []*engine.Tensor) {
	if !wantVector(s, op, "out", out, 1) {
		return
	}
	if scratch == nil || scratch.partials == nil {
		s.Fail(fmt.Errorf("%s: missing scratch: make one with NewReduceScratch", op))
		return
	}
	if len(xs) == 0 {
		s.Fail(fmt.Errorf("%s: no tensors to reduce", op))
		return
	}
	count := 0
	for i, x := range xs {
		if !dtypeIs(s, op, fmt.Sprintf("tensor %d", i), x, engine.Float32) {
			return
		}
		count += reducePartials(x.Len())
	}
	if count > scratch.partials.Len() {
		s.Fail(fmt.Errorf("%s: %d partial sums exceed the scratch's %d: make the scratch with NewReduceScratch over these tensors", op, count, scratch.partials.Len()))
		return
	}
	name := "reduce_partial"
	if squares {
		name = "reduce_partial_squares"
	}
	k := s.Kernel(name, seLocal)
	offset := 0
	for _, x := range xs {
		groups := reducePartials(x.Len())
		grid, err := s.Device().FoldGroups(groups)
		if err != nil {
			s.Fail(fmt.Errorf("%s of %s: %w", op, x, err))
			return
		}
		push := shaders.ReducePartialPush{N: uint32(x.Len()), Chunk: reduceChunk, Offset: uint32(offset)}
		if squares {
			s.Dispatch(k, grid, shaders.ReducePartialSquaresPush(push), scratch.partials, x)
		} else {
			s.Dispatch(k, grid, push, scratch.partials, x)
		}
		offset += groups
	}
	take := uint32(0)
	if sqrt {
		take = 1
	}
	s.Dispatch(s.Kernel("reduce_final", seLocal), engine.Grid{X: 1, Y: 1, Z: 1},
		shaders.ReduceFinalPush{Count: uint32(count), Scale: scale, TakeSqrt: take}, out, scratch.partials)
}
