package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// Random masks (drop path, dropout) come from Philox4x32-10 on the device,
// bit for bit ref.Uniform(seed, step, stream, index). The seed and step are
// not recorded into the sequence: kernels read them from an RNG state tensor,
// uint32 [4] = {lo32(seed), hi32(seed), step, first sample}, which the caller
// rewrites with SetRNGState before each replay, so one recording serves every
// step. The stream (one per drop-path site or dropout layer) is fixed when
// recording.

// NewRNGState allocates the uint32 [4] RNG state tensor that the random
// kernels read, set to seed and step 0.
func NewRNGState(d *engine.Device, seed uint64) (*engine.Tensor, error) {
	t, err := d.NewTensor("rng state", engine.Uint32, 4)
	if err != nil {
		return nil, fmt.Errorf("ops: rng state: %w", err)
	}
	if err := SetRNGState(t, seed, 0); err != nil {
		t.Free()
		return nil, err
	}
	return t, nil
}

// SetRNGState writes seed and step into an RNG state tensor (uint32 [4]),
// with first sample 0. Call it between runs, never while a sequence that
// reads it is running.
func SetRNGState(rng *engine.Tensor, seed uint64, step uint32) error {
	return SetRNGStateAt(rng, seed, step, 0)
}

// SetRNGStateAt is SetRNGState for a batch that is a slice of a larger one
// starting at sample first: drop path and dropout then draw, for local
// sample n, the mask of sample first+n of the whole batch.
func SetRNGStateAt(rng *engine.Tensor, seed uint64, step, first uint32) error {
	if rng == nil || rng.DType != engine.Uint32 || rng.Len() != 4 {
		return fmt.Errorf("ops: rng state %v: want a uint32 [4] tensor from NewRNGState", rng)
	}
	return rng.Upload([]uint32{uint32(seed), uint32(seed >> 32), step, first})
}

// wantRNG records an error in s unless rng is an RNG state tensor.
func wantRNG(s *engine.Sequence, op string, rng *engine.Tensor) bool {
	return dtypeIs(s, op, "rng state", rng, engine.Uint32) && wantShape(s, op, "rng state", rng, 4)
}

// RandomUniform records y[i] = ref.Uniform(seed, step, stream, i) for every
// element of the float32 tensor y, with seed and step read from rng.
func RandomUniform(s *engine.Sequence, y, rng *engine.Tensor, stream uint32) {
	const op = "random uniform"
	if !dtypeIs(s, op, "y", y, engine.Float32) || !wantRNG(s, op, rng) {
		return
	}
	n := y.Len()
	s.Dispatch1D(s.Kernel("philox_uniform", seLocal), ceilDiv(n, 4), shaders.PhiloxUniformPush{N: uint32(n), Stream: stream}, y, rng)
}

// DropPathForward records stochastic depth on a residual branch, y and x
// [N,C,H,W], keep the survival probability in (0,1], seed and step read from
// rng:
//
//	m[n] = 1 if Uniform(seed, step, stream, first+n) < keep, else 0
//	y[n,c,h,w] = x[n,c,h,w] * m[n] / keep
func DropPathForward(s *engine.Sequence, y, x, rng *engine.Tensor, keep float32, stream uint32) {
	dropPath(s, "drop path forward", y, x, rng, keep, stream, 0)
}

// DropPathBackward records the gradient of DropPathForward with the same
// mask (same rng state and stream):
//
//	dx[n,c,h,w] = dy[n,c,h,w] * m[n] / keep
func DropPathBackward(s *engine.Sequence, dx, dy, rng *engine.Tensor, keep float32, stream uint32) {
	dropPath(s, "drop path backward", dx, dy, rng, keep, stream, 0)
}

// dropPath records drop path over y and x, whose sample 0 is sample first
// of the recorded batch (not 0 only under a batch split).
func dropPath(s *engine.Sequence, op string, y, x, rng *engine.Tensor, keep float32, stream uint32, first int) {
	if !(keep > 0 && keep <= 1) {
		s.Fail(fmt.Errorf("%s: keep probability %v: want a value in (0,1]", op, keep))
		return
	}
	if !dtypeIs(s, op, "x", x, engine.Float32) || !dtypeIs(s, op, "y", y, engine.Float32) || !wantRNG(s, op, rng) {
		return
	}
	if _, _, _, _, ok := shape4(s, op, x); !ok || !wantShape(s, op, "y", y, x.Shape...) ||
		splitBatch(s, op, func(part batchPart, at int) { dropPath(s, op, part(y), part(x), rng, keep, stream, first+at) }, y, x) {
		return
	}
	n := x.Len()
	per := n / x.Shape[0]
	push := shaders.DropPathPush{N: uint32(n), Per: uint32(per), Threshold: keep, Scale: 1 / keep, Stream: stream, First: uint32(first)}
	if dropPathU64(s.Device(), per) {
		s.Dispatch1D(s.Kernel("drop_path_u64", seLocal), n/dropPathU64Floats, shaders.DropPathU64Push(push), y, x, rng)
		return
	}
	if per%4 == 0 {
		s.Dispatch1D(s.Kernel("drop_path_vec4", seLocal), n/4, shaders.DropPathVec4Push(push), y, x, rng)
		return
	}
	s.Dispatch1D(s.Kernel("drop_path", seLocal), ceilDiv(n, 4), push, y, x, rng)
}

// dropPathU64Floats is the elements per invocation of the drop_path_u64
// kernel (U64_GROUPS groups of 8 in shaders/dropout.comp).
const dropPathU64Floats = 16

// dropPathU64 reports whether drop path over samples of per elements runs
// the _u64 kernel: on a CPU driver with shaderInt64, where a storage-buffer
// store is a loop over the lanes with a bounds check per component (u64vec4
// stores halve the loops per value) and the Philox draw is a good part of
// the arithmetic (one per 16 elements instead of one per 4), when per is a
// multiple of 16. GPUs keep drop_path_vec4.
func dropPathU64(d *engine.Device, per int) bool {
	return defaultsOf(d).cpuShaped && d.Info.Int64 && per%dropPathU64Floats == 0
}

// DropoutForward records inverted dropout with drop probability p in [0,1)
// over tensors y and x of equal shape, seed and step read from rng:
//
//	mask[i] = 1 if Uniform(seed, step, stream, i + first*per) >= p, else 0
//	(per: elements per sample, x.Shape[0] being the batch)
//	y[i]    = x[i] * mask[i] / (1 - p)
func DropoutForward(s *engine.Sequence, y, x, rng *engine.Tensor, p float32, stream uint32) {
	dropout(s, "dropout forward", y, x, rng, p, stream, 0)
}

// DropoutBackward records the gradient of DropoutForward with the same mask
// (same rng state and stream):
//
//	dx[i] = dy[i] * mask[i] / (1 - p)
func DropoutBackward(s *engine.Sequence, dx, dy, rng *engine.Tensor, p float32, stream uint32) {
	dropout(s, "dropout backward", dx, dy, rng, p, stream, 0)
}

// dropout records dropout over y and x, whose sample 0 is sample first of
// the recorded batch (not 0 only under a batch split).
func dropout(s *engine.Sequence, op string, y, x, rng *engine.Tensor, p float32, stream uint32, first int) {
	if !(p >= 0 && p < 1) {
		s.Fail(fmt.Errorf("%s: drop probability %v: want a value in [0,1)", op, p))
		return
	}
	if !dtypeIs(s, op, "x", x, engine.Float32) || !dtypeIs(s, op, "y", y, engine.Float32) || !wantRNG(s, op, rng) {
		return
	}
	if !wantShape(s, op, "y", y, x.Shape...) ||
		splitBatch(s, op, func(part batchPart, at int) { dropout(s, op, part(y), part(x), rng, p, stream, first+at) }, y, x) {
		return
	}
	n := x.Len()
	per := n / max(x.Shape[0], 1)
	push := shaders.DropoutPush{N: uint32(n), Per: uint32(per), Threshold: p, Scale: 1 / (1 - p), Stream: stream, First: uint32(first)}
	if n%4 == 0 {
		s.Dispatch1D(s.Kernel("dropout_vec4", seLocal), n/4, shaders.DropoutVec4Push(push), y, x, rng)
		return
	}
	s.Dispatch1D(s.Kernel("dropout", seLocal), ceilDiv(n, 4), push, y, x, rng)
}
