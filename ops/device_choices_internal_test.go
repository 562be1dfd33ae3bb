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
		tiles   int
	}{
		{"", cpu, false, 16},
		{"0", cpu, false, 16},
		{"1", cpu, true, 1},
		{"", gpu, true, 1},
		{"1", gpu, true, 1},
	} {
		t.Setenv(GPUChoicesEnv, c.env)
		if got := ChunkedWeightGradients(c.dev); got != c.chunked {
			t.Errorf("%s=%q on %s: ChunkedWeightGradients = %v, want %v", GPUChoicesEnv, c.env, c.dev.Info.Type, got, c.chunked)
		}
		if got := depthwiseTilesPerInvocation(c.dev); got != c.tiles {
			t.Errorf("%s=%q on %s: depthwise tiles per invocation = %d, want %d", GPUChoicesEnv, c.env, c.dev.Info.Type, got, c.tiles)
		}
	}
}
