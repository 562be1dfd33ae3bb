package ops_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
)

// fusedTol is the tolerance of a fused kernel against the unfused path,
// relative to the largest output: the fused epilogue computes
// z*scale + shift where batch norm computes (z-mean)*(gamma*invstd) + beta,
// so the two round differently by a few float32 ulps of the largest terms.
const fusedTol = 1e-5

// bnParams uploads random eval-mode batch-norm parameters for c channels:
// running mean, running variance (positive), gamma, beta.
func bnParams(t *testing.T, d *engine.Device, r *rand.Rand, c int) (runM, runV, gamma, beta *engine.Tensor, host [4][]float64) {
	t.Helper()
	var f [4][]float32
	for i := range f {
		host[i], f[i] = randSlice(r, c)
	}
	for i := range f[1] {
		f[1][i] = 0.2 + f[1][i]*f[1][i] // variance > 0
		host[1][i] = float64(f[1][i])
	}
	return upload(t, d, "run-mean", f[0], c), upload(t, d, "run-var", f[1], c),
		upload(t, d, "gamma", f[2], c), upload(t, d, "beta", f[3], c), host
}

// TestBatchNormFold checks scale and shift against float64.
func TestBatchNormFold(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	const c, eps = 37, 1e-3
	runM, runV, gamma, beta, h := bnParams(t, d, r, c)
	scale, shift := poisoned(t, d, "scale", c), poisoned(t, d, "shift", c)
	run(t, d, func(s *engine.Sequence) { ops.BatchNormFold(s, scale, shift, runM, runV, gamma, beta, eps) })
	wantScale, wantShift := make([]float64, c), make([]float64, c)
	for i := range c {
		wantScale[i] = h[2][i] / math.Sqrt(h[1][i]+float64(float32(eps)))
		wantShift[i] = h[3][i] - h[0][i]*wantScale[i]
	}
	compare(t, "scale", download(t, scale), wantScale, 1e-6)
	compare(t, "shift", download(t, shift), wantShift, 1e-6)
}

// fusedCase is one convolution whose fused forward is compared with the
// unfused path.
type fusedCase struct {
	kind           string // "conv2d", "pointwise" or "depthwise"
	n, c, oc, h, w int
	k, stride      int
}

// TestFusedForwardMatchesUnfused runs each forward convolution with the
// eval-mode batch-norm epilogue (alone, and with SiLU and a residual)
// against conv -> BatchNormEvalParams -> BatchNormForward (-> Add), within
// fusedTol. Shapes include odd sizes, stride 2, batch 1, channel counts
// that are not multiples of 4 and H*W not a multiple of 4.
func TestFusedForwardMatchesUnfused(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	cases := []fusedCase{
		{"conv2d", 2, 3, 10, 9, 11, 3, 2},
		{"conv2d", 1, 3, 6, 16, 8, 3, 2}, // 4 output columns: the stem kernel's vec4 epilogue
		{"conv2d", 2, 3, 8, 5, 32, 3, 2}, // 16 output columns: the stem kernel's u64 epilogue
		{"conv2d", 1, 5, 12, 8, 8, 3, 1},
		{"pointwise", 2, 12, 20, 8, 8, 1, 1},
		{"pointwise", 1, 7, 9, 5, 3, 1, 1},
		{"pointwise", 3, 24, 48, 4, 4, 1, 1},
		{"depthwise", 2, 6, 6, 9, 7, 3, 1},
		{"depthwise", 1, 5, 5, 12, 12, 3, 2},
		{"depthwise", 2, 4, 4, 8, 8, 5, 1},
		{"depthwise", 1, 3, 3, 11, 9, 5, 2},
	}
	// Two combinations per shape: batch norm alone, and SiLU with a
	// residual (the last unit of a Fused-MBConv block without expansion).
	combos := []struct {
		act      ops.Activation
		residual bool
	}{{ops.ActNone, false}, {ops.ActSiLU, true}}
	for _, fc := range cases {
		for _, cb := range combos {
			name := fmt.Sprintf("%s_%dx%dx%dx%d_oc%d_k%d_s%d_%v_residual=%v", fc.kind, fc.n, fc.c, fc.h, fc.w, fc.oc, fc.k, fc.stride, cb.act, cb.residual)
			t.Run(name, func(t *testing.T) { checkFused(t, d, r, fc, cb.act, cb.residual) })
		}
	}
}

func checkFused(t *testing.T, d *engine.Device, r *rand.Rand, fc fusedCase, act ops.Activation, residual bool) {
	const eps = 1e-3
	oh, ow := ops.ConvOutSize(fc.h, fc.k, fc.stride), ops.ConvOutSize(fc.w, fc.k, fc.stride)
	_, xv := randSlice(r, fc.n*fc.c*fc.h*fc.w)
	x := upload(t, d, "x", xv, fc.n, fc.c, fc.h, fc.w)
	wshape := []int{fc.oc, fc.c, fc.k, fc.k}
	if fc.kind == "depthwise" {
		wshape = []int{fc.c, 1, fc.k, fc.k}
	}
	_, wv := randSlice(r, wshape[0]*wshape[1]*wshape[2]*wshape[3])
	w := upload(t, d, "w", wv, wshape...)
	runM, runV, gamma, beta, _ := bnParams(t, d, r, fc.oc)
	out := []int{fc.n, fc.oc, oh, ow}
	var res *engine.Tensor
	if residual {
		_, rv := randSlice(r, fc.n*fc.oc*oh*ow)
		res = upload(t, d, "residual", rv, out...)
	}
	z, bn, sum := poisoned(t, d, "z", out...), poisoned(t, d, "bn", out...), poisoned(t, d, "sum", out...)
	mean, invstd := poisoned(t, d, "mean", fc.oc), poisoned(t, d, "invstd", fc.oc)
	scale, shift := poisoned(t, d, "scale", fc.oc), poisoned(t, d, "shift", fc.oc)
	fused := poisoned(t, d, "fused", out...)
	ep := &ops.Epilogue{Scale: scale, Shift: shift, Act: act, Residual: res}
	run(t, d, func(s *engine.Sequence) {
		switch fc.kind {
		case "conv2d":
			ops.Conv2DForward(s, z, x, w, fc.stride)
		case "pointwise":
			ops.PointwiseForward(s, z, x, w)
		case "depthwise":
			ops.DepthwiseForward(s, z, x, w, fc.stride)
		}
		ops.BatchNormEvalParams(s, mean, invstd, runM, runV, eps)
		ops.BatchNormForward(s, bn, z, mean, invstd, gamma, beta, act)
		if residual {
			ops.Add(s, sum, bn, res)
		}
		ops.BatchNormFold(s, scale, shift, runM, runV, gamma, beta, eps)
		switch fc.kind {
		case "conv2d":
			ops.Conv2DForwardFused(s, fused, x, w, fc.stride, ep)
		case "pointwise":
			ops.PointwiseForwardFused(s, fused, x, w, ep)
		case "depthwise":
			ops.DepthwiseForwardFused(s, fused, x, w, fc.stride, ep)
		}
	})
	want := bn
	if residual {
		want = sum
	}
	compare(t, "fused forward", download(t, fused), download(t, want), fusedTol)
}

// TestBatchNormForwardResidual checks the residual variant of batch-norm
// forward against BatchNormForward followed by Add (aligned and unaligned
// H*W, with and without SiLU). Both add the same two float32 values, so
// they must agree to 1e-6.
func TestBatchNormForwardResidual(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, shape := range [][4]int{{2, 5, 4, 4}, {1, 3, 5, 3}, {3, 7, 8, 6}} {
		for _, act := range []ops.Activation{ops.ActNone, ops.ActSiLU} {
			t.Run(fmt.Sprintf("%v_%v", shape, act), func(t *testing.T) {
				n, c, h, w := shape[0], shape[1], shape[2], shape[3]
				_, xv := randSlice(r, n*c*h*w)
				_, rv := randSlice(r, n*c*h*w)
				x, res := upload(t, d, "x", xv, n, c, h, w), upload(t, d, "residual", rv, n, c, h, w)
				_, _, gamma, beta, _ := bnParams(t, d, r, c)
				mean, invstd := poisoned(t, d, "mean", c), poisoned(t, d, "invstd", c)
				y, sum, fused := poisoned(t, d, "y", n, c, h, w), poisoned(t, d, "sum", n, c, h, w), poisoned(t, d, "fused", n, c, h, w)
				run(t, d, func(s *engine.Sequence) {
					ops.BatchNormStats(s, mean, invstd, x, 1e-3)
					ops.BatchNormForward(s, y, x, mean, invstd, gamma, beta, act)
					ops.Add(s, sum, y, res)
					ops.BatchNormForwardResidual(s, fused, x, mean, invstd, gamma, beta, act, res)
				})
				compare(t, "residual batch norm", download(t, fused), download(t, sum), 1e-6)
			})
		}
	}
}

// TestFusedErrors checks that bad epilogues are refused with a message.
func TestFusedErrors(t *testing.T) {
	d := enginetest.Open(t)
	x := newTensor(t, d, engine.Float32, 1, 4, 6, 6)
	w := newTensor(t, d, engine.Float32, 8, 4, 1, 1)
	y := newTensor(t, d, engine.Float32, 1, 8, 6, 6)
	c8, c4 := newTensor(t, d, engine.Float32, 8), newTensor(t, d, engine.Float32, 4)
	wrong := newTensor(t, d, engine.Float32, 1, 8, 6, 5)
	z := newTensor(t, d, engine.Float32, 1, 8, 6, 6)
	wantRecordErrors(t, d, []errorCase{
		{"scale length", func(s *engine.Sequence) {
			ops.PointwiseForwardFused(s, y, x, w, &ops.Epilogue{Scale: c4, Shift: c8})
		}, "epilogue scale"},
		{"residual shape", func(s *engine.Sequence) {
			ops.PointwiseForwardFused(s, y, x, w, &ops.Epilogue{Scale: c8, Shift: c8, Residual: wrong})
		}, "residual"},
		{"activation", func(s *engine.Sequence) {
			ops.PointwiseForwardFused(s, y, x, w, &ops.Epilogue{Scale: c8, Shift: c8, Act: 7})
		}, "unknown activation"},
		{"missing epilogue", func(s *engine.Sequence) {
			ops.PointwiseForwardFused(s, y, x, w, nil)
		}, "missing epilogue"},
		{"missing residual", func(s *engine.Sequence) {
			ops.BatchNormForwardResidual(s, y, z, c8, c8, c8, c8, ops.ActNone, nil)
		}, "missing residual"},
		{"input scale shape", func(s *engine.Sequence) {
			ops.PointwiseForwardFused(s, y, x, w, &ops.Epilogue{Scale: c8, Shift: c8, InputScale: c8})
		}, "input scale"},
		{"input scale on a depthwise conv", func(s *engine.Sequence) {
			ops.DepthwiseForwardFused(s, y, y, newTensor(t, d, engine.Float32, 8, 1, 3, 3), 1, &ops.Epilogue{Scale: c8, Shift: c8, InputScale: c8})
		}, "pointwise (1x1) kernels only"},
		{"fold shapes", func(s *engine.Sequence) {
			ops.BatchNormFold(s, c8, c8, c4, c4, c4, c4, 1e-3)
		}, "must be float32 [4]"},
	})
}

// TestPointwiseInputScaleMatchesUnfused checks the pointwise prologue
// (squeeze-excite's channel scale applied as the input is read) with the
// batch-norm epilogue against ChannelScaleForward -> PointwiseForward ->
// BatchNormEvalParams -> BatchNormForward (-> Add), within fusedTol, with
// H*W a multiple of 4 (vec4 columns) and not.
func TestPointwiseInputScaleMatchesUnfused(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, fc := range []fusedCase{
		{"pointwise", 2, 12, 20, 8, 8, 1, 1},
		{"pointwise", 3, 7, 9, 5, 3, 1, 1},
		{"pointwise", 2, 40, 24, 4, 4, 1, 1},
	} {
		for _, residual := range []bool{false, true} {
			t.Run(fmt.Sprintf("%dx%dx%dx%d_oc%d_residual=%v", fc.n, fc.c, fc.h, fc.w, fc.oc, residual), func(t *testing.T) {
				const eps = 1e-3
				out := []int{fc.n, fc.oc, fc.h, fc.w}
				_, xv := randSlice(r, fc.n*fc.c*fc.h*fc.w)
				_, wv := randSlice(r, fc.oc*fc.c)
				_, gv := randSlice(r, fc.n*fc.c)
				x, w := upload(t, d, "x", xv, fc.n, fc.c, fc.h, fc.w), upload(t, d, "w", wv, fc.oc, fc.c, 1, 1)
				g := upload(t, d, "channel scale", gv, fc.n, fc.c)
				runM, runV, gamma, beta, _ := bnParams(t, d, r, fc.oc)
				var res *engine.Tensor
				if residual {
					_, rv := randSlice(r, fc.n*fc.oc*fc.h*fc.w)
					res = upload(t, d, "residual", rv, out...)
				}
				xs := poisoned(t, d, "scaled x", fc.n, fc.c, fc.h, fc.w)
				z, bn, sum := poisoned(t, d, "z", out...), poisoned(t, d, "bn", out...), poisoned(t, d, "sum", out...)
				mean, invstd := poisoned(t, d, "mean", fc.oc), poisoned(t, d, "invstd", fc.oc)
				scale, shift := poisoned(t, d, "scale", fc.oc), poisoned(t, d, "shift", fc.oc)
				fused := poisoned(t, d, "fused", out...)
				run(t, d, func(s *engine.Sequence) {
					ops.ChannelScaleForward(s, xs, x, g)
					ops.PointwiseForward(s, z, xs, w)
					ops.BatchNormEvalParams(s, mean, invstd, runM, runV, eps)
					ops.BatchNormForward(s, bn, z, mean, invstd, gamma, beta, ops.ActNone)
					if residual {
						ops.Add(s, sum, bn, res)
					}
					ops.BatchNormFold(s, scale, shift, runM, runV, gamma, beta, eps)
					ops.PointwiseForwardFused(s, fused, x, w, &ops.Epilogue{Scale: scale, Shift: shift, Residual: res, InputScale: g})
				})
				want := bn
				if residual {
					want = sum
				}
				compare(t, "fused forward with input scale", download(t, fused), download(t, want), fusedTol)
			})
		}
	}
}

// TestPointwiseScaledMatchesUnfused checks the training-graph prologue
// (forward and weight gradient of a 1x1 conv whose input is scaled per
// image and channel as it is read) against ChannelScaleForward followed by
// the plain kernels, within 1e-5 of the largest value (the product is
// rounded once more on the unfused path). H*W a multiple of 4 and not.
func TestPointwiseScaledMatchesUnfused(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, fc := range []fusedCase{
		{"pointwise", 2, 12, 20, 8, 8, 1, 1},
		{"pointwise", 3, 7, 9, 5, 3, 1, 1},
	} {
		t.Run(fmt.Sprintf("%dx%dx%dx%d_oc%d", fc.n, fc.c, fc.h, fc.w, fc.oc), func(t *testing.T) {
			out := []int{fc.n, fc.oc, fc.h, fc.w}
			_, xv := randSlice(r, fc.n*fc.c*fc.h*fc.w)
			_, wv := randSlice(r, fc.oc*fc.c)
			_, gv := randSlice(r, fc.n*fc.c)
			_, dyv := randSlice(r, fc.n*fc.oc*fc.h*fc.w)
			x, w := upload(t, d, "x", xv, fc.n, fc.c, fc.h, fc.w), upload(t, d, "w", wv, fc.oc, fc.c, 1, 1)
			g, dy := upload(t, d, "channel scale", gv, fc.n, fc.c), upload(t, d, "dy", dyv, out...)
			xs := poisoned(t, d, "scaled x", fc.n, fc.c, fc.h, fc.w)
			y, yFused := poisoned(t, d, "y", out...), poisoned(t, d, "y fused", out...)
			dw, dwFused := poisoned(t, d, "dw", fc.oc, fc.c, 1, 1), poisoned(t, d, "dw fused", fc.oc, fc.c, 1, 1)
			run(t, d, func(s *engine.Sequence) {
				ops.ChannelScaleForward(s, xs, x, g)
				ops.PointwiseForward(s, y, xs, w)
				ops.PointwiseBackwardWeight(s, dw, xs, dy)
				ops.PointwiseForwardScaled(s, yFused, x, w, g)
				ops.PointwiseBackwardWeightScaled(s, dwFused, x, dy, g)
			})
			compare(t, "forward", download(t, yFused), download(t, y), fusedTol)
			compare(t, "weight gradient", download(t, dwFused), download(t, dw), fusedTol)
		})
	}
}
