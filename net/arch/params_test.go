package arch

import (
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

func TestParamCountMatchesTorchvision(t *testing.T) {
	want := map[string]int{S: 21_458_488, M: 54_139_356, L: 118_515_272}
	for name, n := range want {
		cfg, _ := Lookup(name, 1000)
		if got := cfg.ParamCount(); got != n {
			t.Errorf("%s: %d params, torchvision %d", name, got, n)
		}
	}
}

// TestBaseParamCounts: the official README gives 7.1M, 8.1M, 10.1M, 14.4M.
func TestBaseParamCounts(t *testing.T) {
	want := map[string]float64{B0: 7.1e6, B1: 8.1e6, B2: 10.1e6, B3: 14.4e6}
	for name, n := range want {
		cfg, _ := Lookup(name, 1000)
		if err := enginetest.Within(float64(cfg.ParamCount()), n, 0.05e6); err != nil {
			t.Errorf("%s: params against the README's %.1fM: %v", name, n/1e6, err)
		}
	}
}

func TestStateDictShapeOfS(t *testing.T) {
	cfg, _ := Lookup(S, 1000)
	params := cfg.Params()
	if len(params) != 782 {
		t.Errorf("%d entries, torchvision S has 782", len(params))
	}
	seen := map[string]bool{}
	counters := 0
	for _, p := range params {
		if seen[p.Name] {
			t.Errorf("duplicate name %s", p.Name)
		}
		seen[p.Name] = true
		if p.Role == BNBatchesTracked {
			counters++
			if p.DType != Int64 || len(p.Shape) != 0 || p.Elements() != 1 || p.Trainable {
				t.Errorf("%s: %v %v trainable %v", p.Name, p.DType, p.Shape, p.Trainable)
			}
		}
	}
	if counters != 110 {
		t.Errorf("%d num_batches_tracked entries, want 110", counters)
	}
	first, last := params[0], params[len(params)-1]
	if first.Name != "features.0.0.weight" || first.Role != ConvWeight || !equalInts(first.Shape, 24, 3, 3, 3) {
		t.Errorf("first entry %+v", first)
	}
	if last.Name != "classifier.1.bias" || last.Role != LinearBias || !equalInts(last.Shape, 1000) {
		t.Errorf("last entry %+v", last)
	}
}

func TestRolesTrainableAndDecay(t *testing.T) {
	cfg, _ := Lookup(Pico, 10)
	byName := map[string]Param{}
	for _, p := range cfg.Params() {
		byName[p.Name] = p
	}
	cases := []struct {
		name      string
		role      Role
		shape     []int
		trainable bool
		noDecay   bool
	}{
		{"features.0.0.weight", ConvWeight, []int{16, 3, 3, 3}, true, false},
		{"features.0.1.weight", BNWeight, []int{16}, true, true},
		{"features.0.1.bias", BNBias, []int{16}, true, true},
		{"features.0.1.running_mean", BNRunningMean, []int{16}, false, false},
		{"features.0.1.running_var", BNRunningVar, []int{16}, false, false},
		{"features.1.0.block.0.0.weight", ConvWeight, []int{16, 16, 3, 3}, true, false},  // fused e1: single conv
		{"features.2.0.block.0.0.weight", ConvWeight, []int{64, 16, 3, 3}, true, false},  // fused e4 expand
		{"features.2.0.block.1.0.weight", ConvWeight, []int{24, 64, 1, 1}, true, false},  // fused e4 project
		{"features.3.0.block.0.0.weight", ConvWeight, []int{96, 24, 1, 1}, true, false},  // MBConv expand
		{"features.3.0.block.1.0.weight", ConvWeight, []int{96, 1, 3, 3}, true, false},   // depthwise
		{"features.3.0.block.2.fc1.weight", ConvWeight, []int{6, 96, 1, 1}, true, false}, // SE squeeze 24/4
		{"features.3.0.block.2.fc1.bias", ConvBias, []int{6}, true, true},
		{"features.3.0.block.2.fc2.weight", ConvWeight, []int{96, 6, 1, 1}, true, false},
		{"features.3.0.block.2.fc2.bias", ConvBias, []int{96}, true, true},
		{"features.3.0.block.3.0.weight", ConvWeight, []int{48, 96, 1, 1}, true, false},
		{"features.3.1.block.2.fc1.weight", ConvWeight, []int{12, 192, 1, 1}, true, false},
		{"features.5.0.weight", ConvWeight, []int{256, 64, 1, 1}, true, false},
		{"classifier.1.weight", LinearWeight, []int{10, 256}, true, false},
		{"classifier.1.bias", LinearBias, []int{10}, true, true},
	}
	for _, c := range cases {
		p, ok := byName[c.name]
		if !ok {
			t.Errorf("missing %s", c.name)
			continue
		}
		if p.Role != c.role || !equalInts(p.Shape, c.shape...) || p.Trainable != c.trainable || p.NoWeightDecay != c.noDecay || p.DType != Float32 {
			t.Errorf("%s: got %+v", c.name, p)
		}
	}
	if _, ok := byName["features.1.0.block.1.0.weight"]; ok {
		t.Error("fused e1 block has a projection conv")
	}
	if got := cfg.ParamCount() + cfg.BufferCount(); got != totalElements(cfg.Params()) {
		t.Errorf("params + buffers = %d, table holds %d", got, totalElements(cfg.Params()))
	}
}

func TestInputChannelsShapeTheStem(t *testing.T) {
	cfg, _ := Lookup(Pico, 10)
	cfg.InputChannels = 1
	if p := cfg.Params()[0]; !equalInts(p.Shape, 16, 1, 3, 3) {
		t.Errorf("grey-scale stem: %v", p.Shape)
	}
}

func TestRoleAndTypeNames(t *testing.T) {
	if ConvWeight.String() != "conv_weight" || BNBatchesTracked.String() != "bn_num_batches_tracked" || !strings.HasPrefix(Role(99).String(), "Role(") {
		t.Error("role names")
	}
	if Float32.String() != "float32" || Int64.String() != "int64" || FusedMBConv.String() != "Fused-MBConv" || MBConv.String() != "MBConv" {
		t.Error("type names")
	}
}

func equalInts(got []int, want ...int) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if got[i] != want[i] {
			return false
		}
	}
	return true
}

func totalElements(params []Param) int {
	n := 0
	for _, p := range params {
		n += p.Elements()
	}
	return n
}
