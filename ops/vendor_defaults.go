package ops

import (
	"os"

	"github.com/effv2vk/effv2vk/engine"
)

// deviceDefaults are the choices ops makes for a device before anything is
// tuned: what EFFV2VK_TUNE=off records, what the tuner compares against, and
// the launch shapes of the kernels that are not tuned. Local sizes are
// upper bounds: ops still caps them at the device's
// maxComputeWorkGroupInvocations and widens the cluster kernels' to a whole
// subgroup (clusterShapeOf).
type deviceDefaults struct {
	// cpuShaped: the dispatches are shaped for a CPU driver, where a
	// workgroup is one SIMD loop over its subgroups and an invocation's
	// start-up is costly.
	cpuShaped bool
	// clusterLocal is the workgroup of the conv2d and pointwise cluster
	// kernels (a multiple of the 8-lane clusters); 0: one cluster.
	clusterLocal int
	// elementwiseLocal is the workgroup of the activations, the
	// batch-norm normalize and per-channel updates and the weight-gradient
	// chunk sums (elementwiseLocal).
	elementwiseLocal uint32
	// depthwiseLocal is the depthwise kernels' workgroup; 0: one subgroup.
	depthwiseLocal uint32
	// depthwiseTiles is how many planes one depthwise forward or
	// backward-data invocation walks (depthwiseShape.per).
	depthwiseTiles int
	// batchnormLocal is the batch-norm statistics and backward reductions'
	// workgroup (a power of two); 0: one subgroup.
	batchnormLocal uint32
	// chunkedWeightGradients: convolution weight gradients take the
	// chunked (split-K) path.
	chunkedWeightGradients bool
	// gemmFamily: the shared-memory GEMM family (shaders/gemm.comp) is
	// among the tuner's candidates for the 1x1, 3x3 and linear layers;
	// otherwise only the register-tile kernels are.
	gemmFamily bool
	// rowLanesMax is the most invocations a row reduction (squeeze-excite's
	// pools, the linears' forward) shares through subgroup shuffles: 32, or
	// less where the compiler may pick a narrower subgroup than reported.
	rowLanesMax uint32
	// pointwiseCPUChunks: the 1x1 GEMMs pick their reduction chunk (KC)
	// among pointwiseCPUChunks, not pointwiseChunks (pointwiseChunk).
	pointwiseCPUChunks bool
	// pointwiseAOnce: the 1x1 GEMMs with column-major A (data gradients)
	// fetch A once per chunk for both row passes (pointwiseAOnceByDefault).
	pointwiseAOnce bool
}

// cpuDriverDefaults are the choices for a CPU driver (lavapipe's
// llvmpipe: 8-wide SoA SIMD on a few threads), all measured there: a
// workgroup of one subgroup is one SIMD loop and keeps the cluster
// kernels' shuffle lanes constants (their fastest); 64-wide elementwise
// workgroups; 16 depthwise tiles per invocation, since an invocation's
// start-up costs about a tile; the single-pass weight gradient already
// fills its few threads; the GEMM family measured 4-25x slower than the
// register-tile kernels (non-uniform shared-memory accesses are a lane loop
// there).
var cpuDriverDefaults = deviceDefaults{
	cpuShaped: true, clusterLocal: 0, elementwiseLocal: 64, depthwiseLocal: 0, depthwiseTiles: 16,
	batchnormLocal: 0, chunkedWeightGradients: false, gemmFamily: false, rowLanesMax: 32,
	pointwiseCPUChunks: true, pointwiseAOnce: true,
}

// gpuDefaults are the choices for a GPU of a vendor without its own row
// (and for a CPU driver under GPUChoicesEnv): clusters of 8 in workgroups
// of 64 (two 32-wide warps or one 64-wide wave), 256-wide elementwise and
// batch-norm workgroups, 64-wide depthwise ones with one tile per
// invocation (a GPU wants the parallelism), chunked weight gradients (the
// single pass runs ceil(C/8)*ceil(OC/8) workgroups, the stem's 3, over
// every pixel, leaving thousands of lanes idle), and the GEMM family among
// the candidates.
var gpuDefaults = deviceDefaults{
	cpuShaped: false, clusterLocal: gpuClusterWorkgroup, elementwiseLocal: 256, depthwiseLocal: 64, depthwiseTiles: 1,
	batchnormLocal: 256, chunkedWeightGradients: true, gemmFamily: true, rowLanesMax: 32,
	pointwiseCPUChunks: false, pointwiseAOnce: false,
}

// intelDefaults are gpuDefaults with row reductions of at most 8 lanes:
// Intel's compilers may run a narrower subgroup (SIMD8) than the one the
// driver reports.
var intelDefaults = func() deviceDefaults { d := gpuDefaults; d.rowLanesMax = 8; return d }()

// vendorDefaults are the choices per vendor, from the vendors' documented
// subgroup widths (see /work/shared/notes/gpu-portability.md). None of the
// GPU rows has been measured on its GPU yet; each says why its values fit.
var vendorDefaults = map[engine.Vendor]deviceDefaults{
	// NVIDIA: warps of 32. 64-invocation cluster and depthwise workgroups
	// are two warps, 256-wide elementwise and batch-norm ones eight: whole
	// warps, several per SM. Shared memory (48 KiB through Vulkan) holds
	// the GEMM family's 64x64 tiles.
	engine.VendorNVIDIA: gpuDefaults,
	// AMD: waves of 64 on GCN, 32 or 64 on RDNA. 64 is one wave64 (two
	// wave32s), so no cluster or depthwise workgroup leaves half a wave
	// idle; 256 is four wave64s (eight wave32s).
	engine.VendorAMD: gpuDefaults,
	// Intel: SIMD8/16/32, the compiler's choice unless a size is required
	// (Xe2: at least 16). 64 and 256 are multiples of every width, so a
	// workgroup is whole subgroups whatever the compiler picks; row
	// reductions stay within 8 lanes (intelDefaults).
	engine.VendorIntel: intelDefaults,
	// Apple (MoltenVK): SIMD-groups of 32, like NVIDIA's warps.
	engine.VendorApple: gpuDefaults,
	// ARM Mali and Qualcomm Adreno: warps of 4-16 (Mali) and waves of
	// 64/128 (Adreno); 64 and 256 are whole subgroups on both. Not
	// measured: the generic GPU choices.
	engine.VendorARM:      gpuDefaults,
	engine.VendorQualcomm: gpuDefaults,
	// Mesa: lavapipe, a CPU driver.
	engine.VendorMesa: cpuDriverDefaults,
}

// defaultsFor returns the built-in choices for a device described by
// info: its vendor's row, or for a vendor without one (another software
// driver, a new vendor) the CPU driver's choices on a CPU device and the
// generic GPU ones on any other.
func defaultsFor(info engine.DeviceInfo) deviceDefaults {
	if dd, ok := vendorDefaults[info.Vendor]; ok {
		return dd
	}
	if info.Type == engine.CPU {
		return cpuDriverDefaults
	}
	return gpuDefaults
}

// defaultsOf returns the built-in choices on d: defaultsFor its info, or
// the generic GPU choices where GPUChoicesEnv is "1" and d would take a
// CPU driver's.
func defaultsOf(d *engine.Device) deviceDefaults {
	dd := defaultsFor(d.Info)
	if dd.cpuShaped && os.Getenv(GPUChoicesEnv) == "1" {
		return gpuDefaults
	}
	return dd
}

// depthwiseLocalOf is the depthwise kernels' workgroup on d: the defaults'
// size, or one subgroup where they ask for it (or where the device's
// subgroup is narrower than the default on a CPU driver), within the
// device's limit.
func depthwiseLocalOf(d *engine.Device) uint32 {
	dd, width := defaultsOf(d), d.Info.SubgroupSize
	local := dd.depthwiseLocal
	if local == 0 {
		local = 64
		if width > 0 && width < local {
			local = width
		}
	}
	if limit := d.Info.MaxWorkgroupInvocation; limit > 0 && local > limit {
		local = limit
	}
	return local
}

// batchnormLocalOf is the batch-norm reductions' workgroup on d: one
// subgroup where the defaults ask for it and the subgroup is a power of two
// of at most 256, else the defaults' size (256 when they ask for one
// subgroup it cannot be), halved until the device runs it.
func batchnormLocalOf(d *engine.Device) uint32 {
	dd, width := defaultsOf(d), d.Info.SubgroupSize
	if dd.batchnormLocal == 0 && width > 0 && width&(width-1) == 0 && width <= 256 {
		return width
	}
	local := dd.batchnormLocal
	if local == 0 {
		local = 256
	}
	for local > 1 && local > d.Info.MaxWorkgroupInvocation {
		local /= 2
	}
	return local
}
