package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// seMLPBackwardCall is one squeeze-excite gate backward
// (SqueezeExciteMLPBackward): its checked shape and tensors.
type seMLPBackwardCall struct {
	sh                                 seMLPShape
	dpooled, dw1, db1, dw2, db2, ds2   *engine.Tensor
	ds1, dg, g, s1, a1, pooled, w1, w2 *engine.Tensor
}

// seMLPBackwardTuned is the autotuned squeeze-excite gate backward, two
// dispatches in every variant: a per-sample kernel (ds2, ds1, dpooled; one
// workgroup per sample), then squeeze_excite_mlp_backward_params (the
// parameter gradients summed over the batch in a fixed order):
//
//   - "shared": squeeze_excite_mlp_backward_data at the elementwise local
//     size (64 on a CPU driver, 256 on GPUs), hidden units split over the
//     workgroup's invocations, partial sums and ds1 in shared memory behind
//     workgroup barriers (the GPU default);
//   - "subgroup": squeeze_excite_mlp_backward_data_subgroup, a workgroup of
//     one subgroup whose lanes split the channels, summed by subgroup
//     shuffles (no workgroup barrier; the CPU driver default).
//
// "subgroup" is eligible where the subgroup fits a workgroup; both where
// their shared memory fits the device's.
var seMLPBackwardTuned = &tunedOp[seMLPBackwardCall]{
	op: "squeeze_excite_mlp_backward",
	variants: []variant[seMLPBackwardCall]{
		{name: "shared", kernels: seMLPBackwardKernels("squeeze_excite_mlp_backward_data"),
			eligible: seMLPBackwardFits(elementwiseLocal, 16), record: recordSEMLPBackwardShared},
		{name: "subgroup", kernels: seMLPBackwardKernels("squeeze_excite_mlp_backward_data_subgroup"),
			eligible: seMLPBackwardFits(seMLPSubgroupLocal, 0), record: recordSEMLPBackwardSubgroup},
	},
	defaultVariant: seMLPBackwardDefault,
	shape: func(c seMLPBackwardCall) string {
		return fmt.Sprintf("n=%d c=%d q=%d", c.sh.n, c.sh.c, c.sh.q)
	},
	scratch: func(d *engine.Device, c seMLPBackwardCall) (seMLPBackwardCall, func(), error) {
		ts, free, err := scratchTensors(d, c.dpooled, c.dw1, c.db1, c.dw2, c.db2, c.ds2, c.ds1, c.dg, c.g, c.s1, c.a1, c.pooled, c.w1, c.w2)
		if err != nil {
			return c, nil, err
		}
		c.dpooled, c.dw1, c.db1, c.dw2, c.db2, c.ds2, c.ds1 = ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], ts[6]
		c.dg, c.g, c.s1, c.a1, c.pooled, c.w1, c.w2 = ts[7], ts[8], ts[9], ts[10], ts[11], ts[12], ts[13]
		return c, free, nil
	},
}

func init() { tunedOps = append(tunedOps, seMLPBackwardTuned) }

// seMLPBackwardDefault is "subgroup" on a CPU driver, where it measured
// fastest (shaders/squeeze_excite_mlp.comp), where eligible; "shared"
// elsewhere.
func seMLPBackwardDefault(d *engine.Device, c seMLPBackwardCall) string {
	if cpuShaped(d) && seMLPBackwardFits(seMLPSubgroupLocal, 0)(d, c) {
		return "subgroup"
	}
	return "shared"
}

// seMLPBackwardFits reports whether a per-sample backward kernel at local
// size local(d) fits d: a local size, and shared memory for ds1 (Q floats
// rounded up to whole vec4s) plus partial bytes per invocation.
func seMLPBackwardFits(local func(*engine.Device) uint32, partial int) func(*engine.Device, seMLPBackwardCall) bool {
	return func(d *engine.Device, c seMLPBackwardCall) bool { return seMLPSharedFits(d, local(d), partial, c.sh.q) }
}

// seMLPBackwardKernels names a variant's two kernels: its per-sample
// kernel and the parameter-gradient kernel the call's alignment selects.
func seMLPBackwardKernels(perSample string) func(*engine.Device, seMLPBackwardCall) []string {
	return func(_ *engine.Device, c seMLPBackwardCall) []string {
		return []string{perSample, seMLPParamsKernel(c.sh)}
	}
}

// seMLPBackwardUnits is the subgroup kernel's UNITS: the texels of four
// hidden units whose da1 a lane keeps in registers per pass over the
// channels (at most 8: 32 units, V2-S's widest gate in one pass).
func seMLPBackwardUnits(q int) uint32 {
	return uint32(min(ceilDiv(q, 4), 8))
}

// recordSEMLPBackwardShared records the "shared" variant.
func recordSEMLPBackwardShared(s *engine.Sequence, c seMLPBackwardCall) {
	const op = "squeeze-excite gate backward"
	grid, ok := seMLPGrid(s, op, c.sh.n)
	if !ok {
		return
	}
	k := seMLPKernel(s, op, "squeeze_excite_mlp_backward_data", c.sh.q)
	if k == nil {
		return
	}
	push := shaders.SqueezeExciteMlpBackwardDataPush{N: uint32(c.sh.n), C: uint32(c.sh.c), Q: uint32(c.sh.q)}
	s.Dispatch(k, grid, push, c.ds2, c.ds1, c.dpooled, c.dg, c.g, c.s1, c.w1, c.w2)
	recordSEMLPBackwardParams(s, c)
}

// recordSEMLPBackwardSubgroup records the "subgroup" variant: a workgroup
// of one subgroup per sample, requiring that subgroup size where the
// device allows it.
func recordSEMLPBackwardSubgroup(s *engine.Sequence, c seMLPBackwardCall) {
	const op = "squeeze-excite gate backward"
	grid, ok := seMLPGrid(s, op, c.sh.n)
	if !ok {
		return
	}
	width := seMLPSubgroupLocal(s.Device())
	k := s.KernelWithSubgroupSize("squeeze_excite_mlp_backward_data_subgroup", width,
		engine.Spec{ID: 0, Value: width}, engine.Spec{ID: 1, Value: uint32(c.sh.q)},
		engine.Spec{ID: 2, Value: specBool(c.sh.c%4 == 0)}, engine.Spec{ID: 3, Value: specBool(c.sh.q%4 == 0)},
		engine.Spec{ID: 4, Value: seMLPBackwardUnits(c.sh.q)})
	push := shaders.SqueezeExciteMlpBackwardDataSubgroupPush{N: uint32(c.sh.n), C: uint32(c.sh.c), Q: uint32(c.sh.q)}
	s.Dispatch(k, grid, push, c.ds2, c.ds1, c.dpooled, c.dg, c.g, c.s1, c.w1, c.w2)
	recordSEMLPBackwardParams(s, c)
}

// seMLPParamsKernel is the parameter-gradient kernel for sh: the vec4 one
// where C % 4 == 0 and Q % 4 == 0.
func seMLPParamsKernel(sh seMLPShape) string {
	if sh.c%4 == 0 && sh.q%4 == 0 {
		return "squeeze_excite_mlp_backward_params_vec4"
	}
	return "squeeze_excite_mlp_backward_params"
}

// recordSEMLPBackwardParams dispatches the parameter gradients: one
// invocation per 4x4 tile of dw1 [Q,C] and of dw2 [C,Q].
func recordSEMLPBackwardParams(s *engine.Sequence, c seMLPBackwardCall) {
	tiles := 2 * ceilDiv(c.sh.q, 4) * ceilDiv(c.sh.c, 4)
	name := seMLPParamsKernel(c.sh)
	k := s.Kernel(name, elementwiseLocalSpec(s.Device()))
	var push any = shaders.SqueezeExciteMlpBackwardParamsPush{N: uint32(c.sh.n), C: uint32(c.sh.c), Q: uint32(c.sh.q)}
	if name == "squeeze_excite_mlp_backward_params_vec4" {
		push = shaders.SqueezeExciteMlpBackwardParamsVec4Push{N: uint32(c.sh.n), C: uint32(c.sh.c), Q: uint32(c.sh.q)}
	}
	s.Dispatch1D(k, tiles, push, c.dw1, c.db1, c.dw2, c.db2, c.ds1, c.ds2, c.pooled, c.a1)
}
