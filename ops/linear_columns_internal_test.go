package ops

import (
	"testing"

	"github.com/effv2vk/effv2vk/engine"
)

// TestLinearColumnsDefault: a CPU driver records the classifier's backward
// (batch 8, 1280->1000) with the one-dispatch "columns" where dx is wanted,
// with the outer product without dx or past one batch tile, and a GPU with
// the row kernels; the subgroup bounds the batch tile.
func TestLinearColumnsDefault(t *testing.T) {
	t.Setenv(GPUChoicesEnv, "")
	info := func(kind engine.DeviceType, subgroup uint32) engine.DeviceInfo {
		return engine.DeviceInfo{Type: kind, SubgroupSize: subgroup, MinSubgroupSize: subgroup, MaxSubgroupSize: subgroup,
			MaxWorkgroupInvocation: 1024, MaxWorkgroupCount: [3]uint32{65535, 65535, 65535}, Int64: true}
	}
	someTensor := &engine.Tensor{}
	for _, c := range []struct {
		name   string
		info   engine.DeviceInfo
		n      int
		withDx bool
		want   string
	}{
		{"lavapipe 8", info(engine.CPU, 8), 8, true, "columns"},
		{"lavapipe 8 without dx", info(engine.CPU, 8), 8, false, "outer_ch80"},
		{"lavapipe 8 batch 9", info(engine.CPU, 8), 9, true, "tile_ot8"},
		{"lavapipe 4 batch 8", info(engine.CPU, 4), 8, true, "tile_ot8"},
		{"lavapipe 4 batch 4", info(engine.CPU, 4), 4, true, "columns"},
		{"GPU", info(engine.DiscreteGPU, 32), 8, true, "rows"},
	} {
		call := linearBackwardCall{n: c.n, in: 1280, out: 1000}
		if c.withDx {
			call.dx = someTensor
		}
		d := &engine.Device{Info: c.info}
		if got := linearBackwardTuned.defaultVariant(d, call); got != c.want {
			t.Errorf("%s: default %q, want %q", c.name, got, c.want)
		}
	}
}
