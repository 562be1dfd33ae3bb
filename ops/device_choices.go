package ops

import (
	"github.com/effv2vk/effv2vk/engine"
)

// GPUChoicesEnv names the switch that makes ops pick, on a CPU driver
// (lavapipe), the configurations it otherwise picks only on GPUs: 64-wide
// depthwise and 256-wide batch-norm workgroups, one depthwise tile per
// invocation, and chunked (split-K) convolution weight gradients. With
// EFFV2VK_GPU_CHOICES=1 the tests prove those paths right without a GPU.
const GPUChoicesEnv = "EFFV2VK_GPU_CHOICES"

// cpuShaped reports whether ops shapes its dispatches for a CPU driver on
// d: lavapipe or another CPU device (see defaultsFor), unless
// GPUChoicesEnv is "1".
func cpuShaped(d *engine.Device) bool { return defaultsOf(d).cpuShaped }

// ChunkedWeightGradients reports whether convolution weight gradients on d
// should take the chunked (split-K) path, Conv2DBackwardWeightChunked:
// true on GPUs, whose thousands of lanes the single pass of
// Conv2DBackwardWeight (ceil(C/8)*ceil(OC/8) workgroups, each walking
// every output pixel) leaves idle; false on a CPU driver, whose few threads
// it already fills, unless GPUChoicesEnv is "1".
func ChunkedWeightGradients(d *engine.Device) bool { return defaultsOf(d).chunkedWeightGradients }

// clusterLanes is the width of the invocation clusters of the conv2d and
// pointwise kernels: 8 invocations share what each fetched (8 weights, 8
// rows of A) through subgroupShuffle within the cluster. Mirrors LANES in
// shaders/conv2d.comp and ROWS in shaders/pointwise.comp.
const clusterLanes = 8

// gpuClusterWorkgroup is the workgroup size of the cluster kernels on GPUs:
// 8 clusters, two 32-wide warps or one 64-wide wave, so that no subgroup
// runs a single 8-lane cluster with its other lanes idle.
const gpuClusterWorkgroup = 64

// clusterShape is how a cluster kernel (conv2d, pointwise) is built on a
// device: its variant suffix, its local size (a multiple of clusterLanes,
// and of the subgroup size when clusters share a subgroup) and the
// subgroup size its pipeline requires where the device lets it (0: none).
type clusterShape struct {
	variant  string // "" (subgroupShuffle) or "_narrow"
	local    int
	subgroup uint32
}

// clusters is the number of 8-lane clusters in a workgroup.
func (c clusterShape) clusters() int { return c.local / clusterLanes }

// clusterShapeOf picks the cluster kernels' shape on d.
//
// The subgroup width: the driver's SubgroupSize, unless it is narrower than
// a cluster and the device lets a pipeline require a size of at least 8
// (VK_EXT_subgroup_size_control), which it then requires. Clusters need
// subgroups of at least clusterLanes; narrower ones take the "_narrow"
// variant (each invocation fetches all 8 values itself; no subgroup
// operation), as on lavapipe with LP_NATIVE_VECTOR_WIDTH=128 (4 lanes).
// The SPIR-V targets Vulkan 1.1, so a pipeline that requires nothing runs
// at the reported SubgroupSize.
//
// The local size: one cluster on a CPU driver (a workgroup is one SIMD loop
// there, and the shuffles' lanes stay constants: lavapipe's fastest),
// gpuClusterWorkgroup or one subgroup, whichever is larger, on GPUs (and on
// a CPU driver under GPUChoicesEnv), within the device's limit.
func clusterShapeOf(d *engine.Device) clusterShape {
	info := d.Info
	width := info.SubgroupSize
	if width < clusterLanes && info.RequiredSubgroupSize && info.MaxSubgroupSize >= clusterLanes {
		width = max(clusterLanes, info.MinSubgroupSize)
	}
	c := clusterShape{local: clusterLanes, subgroup: width}
	if width < clusterLanes {
		c.variant, c.subgroup = "_narrow", 0 // relies on no subgroup width
	}
	if cl := defaultsOf(d).clusterLocal; cl > 0 {
		local := max(cl, int(width))
		if local <= int(info.MaxWorkgroupInvocation) {
			c.local = local
		}
	}
	return c
}

// kernel returns the cluster kernel name+variant built in shape c, with
// the local size at specialization constant localID besides spec.
func (c clusterShape) kernel(s *engine.Sequence, name string, localID uint32, spec ...engine.Spec) *engine.Kernel {
	spec = append(spec, engine.Spec{ID: localID, Value: uint32(c.local)})
	return s.KernelWithSubgroupSize(name+c.variant, c.subgroup, spec...)
}

// elementwiseLocal is the local size of the kernels whose invocations work
// alone (activations, sums, the batch-norm normalize and per-channel
// updates, the weight-gradient chunk sums): 64 on a CPU driver (what they
// were measured with on lavapipe), 256 on GPUs (and under GPUChoicesEnv),
// within the device's limit.
func elementwiseLocal(d *engine.Device) uint32 {
	return min(defaultsOf(d).elementwiseLocal, max(64, d.Info.MaxWorkgroupInvocation))
}

// elementwiseLocalSpec sets elementwiseLocal through specialization
// constant 0, the local size of shaders/activation.comp and of
// batchnorm.comp's normalize and per-channel update kernels.
func elementwiseLocalSpec(d *engine.Device) engine.Spec {
	return engine.Spec{ID: 0, Value: elementwiseLocal(d)}
}

// conv2dStemLocal is the workgroup of the stem kernels
// (shaders/conv2d_stem.comp, whose invocations work alone): one subgroup on
// a CPU driver (a workgroup is one SIMD loop there), 64 on GPUs, within the
// device's limit.
func conv2dStemLocal(d *engine.Device) int {
	if cpuShaped(d) {
		return int(max(1, d.Info.SubgroupSize))
	}
	return int(min(64, max(1, d.Info.MaxWorkgroupInvocation)))
}
