package ops

import (
	"os"

	"github.com/effv2vk/effv2vk/engine"
)

// GPUChoicesEnv names the switch that makes ops pick, on a CPU driver
// (lavapipe), the configurations it otherwise picks only on GPUs: 64-wide
// depthwise and 256-wide batch-norm workgroups, one depthwise tile per
// invocation, and chunked (split-K) convolution weight gradients. With
// EFFV2VK_GPU_CHOICES=1 the tests prove those paths right without a GPU.
const GPUChoicesEnv = "EFFV2VK_GPU_CHOICES"

// cpuShaped reports whether ops shapes its dispatches for a CPU driver on
// d: a CPU device, unless GPUChoicesEnv is "1".
func cpuShaped(d *engine.Device) bool {
	return d.Info.Type == engine.CPU && os.Getenv(GPUChoicesEnv) != "1"
}

// ChunkedWeightGradients reports whether convolution weight gradients on d
// should take the chunked (split-K) path, Conv2DBackwardWeightChunked:
// true on GPUs, whose thousands of lanes the single pass of
// Conv2DBackwardWeight (ceil(C/8)*ceil(OC/8) workgroups, each walking
// every output pixel) leaves idle; false on a CPU driver, whose few threads
// it already fills, unless GPUChoicesEnv is "1".
func ChunkedWeightGradients(d *engine.Device) bool { return !cpuShaped(d) }

// broadcastVariant is the suffix of the kernel variant for a workgroup of
// lanes invocations that share what each fetched: "" (subgroupShuffle)
// when the device's subgroups hold at least lanes invocations, "_narrow"
// (each invocation fetches all lanes' values itself; no subgroup operation,
// no barrier) when they are narrower, as on lavapipe with
// LP_NATIVE_VECTOR_WIDTH=128 (4 lanes). The SPIR-V targets Vulkan 1.1, so a
// pipeline runs at the reported subgroup size.
func broadcastVariant(d *engine.Device, lanes int) string {
	if int(d.Info.SubgroupSize) >= lanes {
		return ""
	}
	return "_narrow"
}
