package ops

import (
	"testing"

	"github.com/effv2vk/effv2vk/engine"
)

// TestVendorDefaults fakes the device info of each vendor's devices (vendor
// ID, type, subgroup sizes and limits as their drivers report them) and
// checks every choice ops derives from the defaults table: the cluster
// kernels' local size, the elementwise, depthwise and batch-norm
// workgroups, depthwise tiles per invocation, chunked weight gradients and
// whether the GEMM family is a candidate. Every workgroup must also be
// whole subgroups (or one subgroup) within the device's limit.
func TestVendorDefaults(t *testing.T) {
	t.Setenv(GPUChoicesEnv, "")
	device := func(id uint32, typ engine.DeviceType, size, lo, hi, maxInv uint32) engine.DeviceInfo {
		return engine.DeviceInfo{VendorID: id, Vendor: engine.VendorOf(id), Type: typ, SubgroupSize: size,
			MinSubgroupSize: lo, MaxSubgroupSize: hi, RequiredSubgroupSize: lo > 0, FullSubgroups: lo > 0, MaxWorkgroupInvocation: maxInv,
			MaxWorkgroupSize: [3]uint32{maxInv, maxInv, 64}, MaxWorkgroupCount: [3]uint32{65535, 65535, 65535}, MaxSharedMemory: 32 << 10}
	}
	type want struct {
		cluster, elementwise, depthwise, batchnorm uint32
		tiles                                      int
		chunked, gemm                              bool
	}
	gpu := want{cluster: 64, elementwise: 256, depthwise: 64, batchnorm: 256, tiles: 1, chunked: true, gemm: true}
	for _, c := range []struct {
		name   string
		info   engine.DeviceInfo
		vendor engine.Vendor
		want   want
	}{
		{"NVIDIA RTX (warp 32)", device(0x10de, engine.DiscreteGPU, 32, 32, 32, 1024), engine.VendorNVIDIA, gpu},
		{"AMD GCN (wave 64)", device(0x1002, engine.DiscreteGPU, 64, 64, 64, 1024), engine.VendorAMD, gpu},
		{"AMD RDNA (wave 32 or 64)", device(0x1002, engine.DiscreteGPU, 64, 32, 64, 1024), engine.VendorAMD, gpu},
		{"Intel Xe (SIMD 8-32)", device(0x8086, engine.IntegratedGPU, 32, 8, 32, 1024), engine.VendorIntel, gpu},
		{"Apple M (MoltenVK, 32)", device(0x106b, engine.IntegratedGPU, 32, 0, 0, 1024), engine.VendorApple, gpu},
		{"ARM Mali (16, 512 invocations)", device(0x13b5, engine.IntegratedGPU, 16, 16, 16, 512), engine.VendorARM, gpu},
		{"Qualcomm Adreno (64)", device(0x5143, engine.IntegratedGPU, 64, 64, 128, 1024), engine.VendorQualcomm, gpu},
		{"lavapipe (8)", device(0x10005, engine.CPU, 8, 8, 8, 1024), engine.VendorMesa,
			want{cluster: 8, elementwise: 64, depthwise: 8, batchnorm: 8, tiles: 16}},
		{"lavapipe (16)", device(0x10005, engine.CPU, 16, 16, 16, 1024), engine.VendorMesa,
			want{cluster: 8, elementwise: 64, depthwise: 16, batchnorm: 16, tiles: 16}},
		{"SwiftShader (unknown CPU vendor)", device(0x1ae0, engine.CPU, 4, 4, 4, 256), "0x1ae0",
			want{cluster: 8, elementwise: 64, depthwise: 4, batchnorm: 4, tiles: 16}},
		{"unknown GPU vendor", device(0x1234, engine.DiscreteGPU, 32, 0, 0, 1024), "0x1234", gpu},
	} {
		if c.info.Vendor != c.vendor {
			t.Errorf("%s: vendor ID %#x is %q, want %q", c.name, c.info.VendorID, c.info.Vendor, c.vendor)
		}
		d := &engine.Device{Info: c.info}
		cs := clusterShapeOf(d)
		got := want{
			cluster: uint32(cs.local), elementwise: elementwiseLocal(d), depthwise: depthwiseLocalOf(d), batchnorm: batchnormLocalOf(d),
			tiles: depthwiseDefaultShape(d).per, chunked: ChunkedWeightGradients(d), gemm: gemmEligible(d, gemmTile32, 256, 256, 256),
		}
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
		width := c.info.SubgroupSize
		for _, local := range []uint32{got.elementwise, got.depthwise, got.batchnorm} {
			if local > c.info.MaxWorkgroupInvocation || (local > width && local%width != 0) {
				t.Errorf("%s: workgroup %d is not whole subgroups of %d within %d invocations", c.name, local, width, c.info.MaxWorkgroupInvocation)
			}
		}
		if got.batchnorm&(got.batchnorm-1) != 0 {
			t.Errorf("%s: batch-norm workgroup %d is not a power of two", c.name, got.batchnorm)
		}
	}
}

// TestGPUChoicesSwitchTakesGPUDefaults: GPUChoicesEnv=1 gives lavapipe the
// generic GPU row, and changes no GPU vendor's row.
func TestGPUChoicesSwitchTakesGPUDefaults(t *testing.T) {
	t.Setenv(GPUChoicesEnv, "1")
	lavapipe := &engine.Device{Info: engine.DeviceInfo{VendorID: 0x10005, Vendor: engine.VendorMesa, Type: engine.CPU, SubgroupSize: 8, MaxWorkgroupInvocation: 1024}}
	if got := defaultsOf(lavapipe); got != gpuDefaults {
		t.Errorf("%s=1 on lavapipe: %+v, want the GPU defaults %+v", GPUChoicesEnv, got, gpuDefaults)
	}
	for v, row := range vendorDefaults {
		if row.cpuShaped {
			continue
		}
		d := &engine.Device{Info: engine.DeviceInfo{Vendor: v, Type: engine.DiscreteGPU, SubgroupSize: 32, MaxWorkgroupInvocation: 1024}}
		if got := defaultsOf(d); got != row {
			t.Errorf("%s=1 on %s: %+v, want its own row %+v", GPUChoicesEnv, v, got, row)
		}
	}
}
