package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// seMLPForwardCall is one squeeze-excite gate forward
// (SqueezeExciteMLPForward): its checked shape and tensors.
type seMLPForwardCall struct {
	sh                            seMLPShape
	s1, a1, g, pooled, w1, b1, w2 *engine.Tensor
	b2                            *engine.Tensor
}

// seMLPForwardTuned is the autotuned squeeze-excite gate forward, one
// dispatch in every variant, one workgroup per sample:
//
//   - "shared": squeeze_excite_mlp_forward at the elementwise local size
//     (64 on a CPU driver, 256 on GPUs), hidden units split over the
//     workgroup's invocations, partial sums and the hidden vector in shared
//     memory behind workgroup barriers (the GPU default);
//   - "shared_subgroup": the same kernel with a workgroup of one subgroup;
//   - "subgroup": squeeze_excite_mlp_forward_subgroup, a workgroup of one
//     subgroup whose lanes split the channels, summed by subgroup shuffles
//     (no workgroup barrier; the CPU driver default).
//
// The subgroup variants are eligible where the subgroup fits a workgroup;
// all where the Q-long hidden vector (and the partials) fit the device's
// shared memory.
var seMLPForwardTuned = &tunedOp[seMLPForwardCall]{
	op: "squeeze_excite_mlp_forward",
	variants: []variant[seMLPForwardCall]{
		{name: "shared", kernels: seMLPForwardKernel("squeeze_excite_mlp_forward"),
			eligible: seMLPForwardFits(elementwiseLocal, 16), record: recordSEMLPForward("squeeze_excite_mlp_forward", elementwiseLocal, nil)},
		{name: "shared_subgroup", kernels: seMLPForwardKernel("squeeze_excite_mlp_forward"),
			eligible: seMLPForwardFits(seMLPSubgroupLocal, 16), record: recordSEMLPForward("squeeze_excite_mlp_forward", seMLPSubgroupLocal, nil)},
		{name: "subgroup", kernels: seMLPForwardKernel("squeeze_excite_mlp_forward_subgroup"),
			eligible: seMLPForwardFits(seMLPSubgroupLocal, 0), record: recordSEMLPForward("squeeze_excite_mlp_forward_subgroup", seMLPSubgroupLocal, seMLPSubgroupLocal)},
	},
	defaultVariant: seMLPForwardDefault,
	shape: func(c seMLPForwardCall) string {
		return fmt.Sprintf("n=%d c=%d q=%d", c.sh.n, c.sh.c, c.sh.q)
	},
	scratch: func(d *engine.Device, c seMLPForwardCall) (seMLPForwardCall, func(), error) {
		ts, free, err := scratchTensors(d, c.s1, c.a1, c.g, c.pooled, c.w1, c.b1, c.w2, c.b2)
		if err != nil {
			return c, nil, err
		}
		c.s1, c.a1, c.g, c.pooled, c.w1, c.b1, c.w2, c.b2 = ts[0], ts[1], ts[2], ts[3], ts[4], ts[5], ts[6], ts[7]
		return c, free, nil
	},
}

func init() { tunedOps = append(tunedOps, seMLPForwardTuned) }

// seMLPSubgroupLocal is a workgroup of one subgroup: the device's subgroup
// size (0 where it exceeds the workgroup limit).
func seMLPSubgroupLocal(d *engine.Device) uint32 {
	if w := d.Info.SubgroupSize; w > 0 && w <= d.Info.MaxWorkgroupInvocation {
		return w
	}
	return 0
}

// seMLPForwardDefault is "subgroup" on a CPU driver, where it measured
// fastest (shaders/squeeze_excite_mlp.comp), where eligible; "shared"
// elsewhere.
func seMLPForwardDefault(d *engine.Device, c seMLPForwardCall) string {
	if cpuShaped(d) && seMLPForwardFits(seMLPSubgroupLocal, 0)(d, c) {
		return "subgroup"
	}
	return "shared"
}

// seMLPForwardFits reports whether a forward kernel at local size local(d)
// fits d: a local size, and shared memory for the hidden vector (Q floats
// rounded up to whole vec4s) plus partial bytes per invocation.
func seMLPForwardFits(local func(*engine.Device) uint32, partial int) func(*engine.Device, seMLPForwardCall) bool {
	return func(d *engine.Device, c seMLPForwardCall) bool { return seMLPSharedFits(d, local(d), partial, c.sh.q) }
}

// seMLPSharedFits reports whether a gate kernel (forward or backward) at
// local size local fits d: a local size, and shared memory for a hidden
// vector of q floats rounded up to whole vec4s plus partial bytes per
// invocation.
func seMLPSharedFits(d *engine.Device, local uint32, partial, q int) bool {
	return local > 0 && partial*int(local)+16*ceilDiv(q, 4) <= int(d.Info.MaxSharedMemory)
}

func seMLPForwardKernel(name string) func(*engine.Device, seMLPForwardCall) []string {
	return func(*engine.Device, seMLPForwardCall) []string { return []string{name} }
}

// recordSEMLPForward dispatches kernel name at local size local(d), one
// workgroup per sample, requiring subgroups of subgroup(d) invocations
// where the device allows it (nil: no requirement).
func recordSEMLPForward(name string, local, subgroup func(*engine.Device) uint32) func(*engine.Sequence, seMLPForwardCall) {
	return func(s *engine.Sequence, c seMLPForwardCall) {
		const op = "squeeze-excite gate forward"
		grid, ok := seMLPGrid(s, op, c.sh.n)
		if !ok {
			return
		}
		d := s.Device()
		var width uint32
		if subgroup != nil {
			width = subgroup(d)
		}
		spec := []engine.Spec{{ID: 0, Value: local(d)}, {ID: 1, Value: uint32(c.sh.q)}}
		var push any = shaders.SqueezeExciteMlpForwardPush{N: uint32(c.sh.n), C: uint32(c.sh.c), Q: uint32(c.sh.q)}
		if name == "squeeze_excite_mlp_forward_subgroup" {
			spec = append(spec, engine.Spec{ID: 2, Value: specBool(c.sh.c%4 == 0)}, engine.Spec{ID: 3, Value: specBool(c.sh.q%4 == 0)})
			push = shaders.SqueezeExciteMlpForwardSubgroupPush{N: uint32(c.sh.n), C: uint32(c.sh.c), Q: uint32(c.sh.q)}
		}
		k := s.KernelWithSubgroupSize(name, width, spec...)
		s.Dispatch(k, grid, push, c.s1, c.a1, c.g, c.pooled, c.w1, c.b1, c.w2, c.b2)
	}
}
