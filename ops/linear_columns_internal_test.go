package ops

import (
	"testing"

	"github.com/effv2vk/effv2vk/engine"
)

// TestLinearColumnsDefault: a CPU driver records the classifier's backward
// (batch 8, 1280->1000) with the one-dispatch "columns_wide" where dx is
// wanted ("columns" without shaderInt64 or with In not a multiple of 8),
// with the outer product without dx or past one batch tile, and a GPU with
// the split one-pass backward (the row kernels without dx or for the
// squeeze-excite reduce 768->32); the subgroup bounds the batch tile.
func TestLinearColumnsDefault(t *testing.T) {
	t.Setenv(GPUChoicesEnv, "")
	info := func(kind engine.DeviceType, subgroup uint32) engine.DeviceInfo {
		return engine.DeviceInfo{Type: kind, SubgroupSize: subgroup, MinSubgroupSize: subgroup, MaxSubgroupSize: subgroup,
			MaxWorkgroupInvocation: 1024, MaxWorkgroupCount: [3]uint32{65535, 65535, 65535}, Int64: true}
	}
	noInt64 := func(i engine.DeviceInfo) engine.DeviceInfo {
		i.Int64 = false
		return i
	}
	someTensor := &engine.Tensor{}
	for _, c := range []struct {
		name   string
		info   engine.DeviceInfo
		n      int
		withDx bool
		want   string
		in     int // 0: the classifier's 1280 inputs and 1000 outputs
		out    int
	}{
		{"lavapipe 8", info(engine.CPU, 8), 8, true, "columns_wide", 0, 0},
		{"lavapipe 8 without shaderInt64", noInt64(info(engine.CPU, 8)), 8, true, "columns", 0, 0},
		{"lavapipe 8 without dx", info(engine.CPU, 8), 8, false, "outer_ch80", 0, 0},
		{"lavapipe 8 batch 9", info(engine.CPU, 8), 9, true, "tile_ot8", 0, 0},
		{"lavapipe 4 batch 8", info(engine.CPU, 4), 8, true, "tile_ot8", 0, 0},
		{"lavapipe 4 batch 4", info(engine.CPU, 4), 4, true, "columns_wide", 0, 0},
		{"GPU", info(engine.DiscreteGPU, 32), 8, true, "split_o32", 0, 0},
		{"GPU without dx", info(engine.DiscreteGPU, 32), 8, false, "rows", 0, 0},
		{"GPU batch 9", info(engine.DiscreteGPU, 32), 9, true, "rows", 0, 0},
		{"GPU squeeze-excite reduce", info(engine.DiscreteGPU, 32), 8, true, "rows", 768, 32},
	} {
		call := linearBackwardCall{n: c.n, in: 1280, out: 1000}
		if c.in > 0 {
			call.in, call.out = c.in, c.out
		}
		if c.withDx {
			call.dx = someTensor
		}
		d := &engine.Device{Info: c.info}
		if got := linearBackwardTuned.defaultVariant(d, call); got != c.want {
			t.Errorf("%s: default %q, want %q", c.name, got, c.want)
		}
	}
}
