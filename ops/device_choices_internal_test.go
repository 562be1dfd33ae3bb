package ops

import (
	"testing"

	"github.com/effv2vk/effv2vk/engine"
)

// TestGPUChoicesSwitch checks that GPUChoicesEnv makes a CPU driver take
// the configurations picked for GPUs, and changes nothing on a GPU.
func TestGPUChoicesSwitch(t *testing.T) {
	cpu := &engine.Device{Info: engine.DeviceInfo{Type: engine.CPU, SubgroupSize: 8}}
	gpu := &engine.Device{Info: engine.DeviceInfo{Type: engine.DiscreteGPU, SubgroupSize: 32}}
	for _, c := range []struct {
		env     string
		dev     *engine.Device
		chunked bool
		dw      depthwiseShape
	}{
		{"", cpu, false, depthwiseShape{local: 8, rows: 8, per: 16, u64Stores: true}},
		{"0", cpu, false, depthwiseShape{local: 8, rows: 8, per: 16, u64Stores: true}},
		{"1", cpu, true, depthwiseShape{local: 64, rows: 4, per: 1}},
		{"", gpu, true, depthwiseShape{local: 64, rows: 4, per: 1}},
		{"1", gpu, true, depthwiseShape{local: 64, rows: 4, per: 1}},
	} {
		t.Setenv(GPUChoicesEnv, c.env)
		if got := ChunkedWeightGradients(c.dev); got != c.chunked {
			t.Errorf("%s=%q on %s: ChunkedWeightGradients = %v, want %v", GPUChoicesEnv, c.env, c.dev.Info.Type, got, c.chunked)
		}
		if got := depthwiseDefaultShape(c.dev); got != c.dw {
			t.Errorf("%s=%q on %s: depthwise shape %+v, want %+v", GPUChoicesEnv, c.env, c.dev.Info.Type, got, c.dw)
		}
	}
}

// TestClusterShapes checks the shape of the cluster kernels (conv2d,
// pointwise) on the subgroup configurations of real devices: the variant,
// the local size (a multiple of the 8-lane clusters and of the subgroup
// size, so that no cluster straddles two subgroups), and the subgroup size
// required where the device allows it.
func TestClusterShapes(t *testing.T) {
	t.Setenv(GPUChoicesEnv, "")
	lavapipe := func(width uint32) engine.DeviceInfo {
		return engine.DeviceInfo{Type: engine.CPU, SubgroupSize: width, MinSubgroupSize: width, MaxSubgroupSize: width,
			RequiredSubgroupSize: true, FullSubgroups: true, MaxWorkgroupInvocation: 1024}
	}
	gpu := func(size, lo, hi uint32, control bool) engine.DeviceInfo {
		return engine.DeviceInfo{Type: engine.DiscreteGPU, SubgroupSize: size, MinSubgroupSize: lo, MaxSubgroupSize: hi,
			RequiredSubgroupSize: control, FullSubgroups: control, MaxWorkgroupInvocation: 1024}
	}
	for _, c := range []struct {
		name string
		info engine.DeviceInfo
		want clusterShape
	}{
		{"lavapipe 4", lavapipe(4), clusterShape{variant: "_narrow", local: 8}},
		{"lavapipe 8", lavapipe(8), clusterShape{local: 8, subgroup: 8}},
		{"lavapipe 16", lavapipe(16), clusterShape{local: 8, subgroup: 16}},
		{"NVIDIA 32", gpu(32, 32, 32, true), clusterShape{local: 64, subgroup: 32}},
		{"AMD wave64", gpu(64, 32, 64, true), clusterShape{local: 64, subgroup: 64}},
		{"Intel 32 (8-32)", gpu(32, 8, 32, true), clusterShape{local: 64, subgroup: 32}},
		{"4-wide default, 8 on request", gpu(4, 4, 16, true), clusterShape{local: 64, subgroup: 8}},
		{"4-wide, no size control", gpu(4, 0, 0, false), clusterShape{variant: "_narrow", local: 64}},
		{"128-wide", gpu(128, 128, 128, true), clusterShape{local: 128, subgroup: 128}},
	} {
		got := clusterShapeOf(&engine.Device{Info: c.info})
		if got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
		if got.local%clusterLanes != 0 || (got.subgroup != 0 && got.clusters() > 1 && got.local%int(got.subgroup) != 0) {
			t.Errorf("%s: local size %d does not hold whole clusters in whole subgroups of %d", c.name, got.local, got.subgroup)
		}
	}
	t.Setenv(GPUChoicesEnv, "1")
	if got := clusterShapeOf(&engine.Device{Info: lavapipe(8)}); got.local != gpuClusterWorkgroup {
		t.Errorf("%s=1 on lavapipe: local size %d, want the GPUs' %d", GPUChoicesEnv, got.local, gpuClusterWorkgroup)
	}
	if got := elementwiseLocal(&engine.Device{Info: lavapipe(8)}); got != 256 {
		t.Errorf("%s=1 on lavapipe: elementwise local size %d, want 256", GPUChoicesEnv, got)
	}
}
