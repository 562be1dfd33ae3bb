package engine

import (
	"strings"
	"testing"
)

// TestMissingSubgroupSupport checks the refusal of devices whose compute
// shaders lack the subgroup operations the kernels use.
func TestMissingSubgroupSupport(t *testing.T) {
	all := uint32(subgroupBasic | subgroupArithmetic | subgroupShuffle)
	cases := []struct {
		name string
		f    extraFeatures
		want string // substring of the reason; "" for a supported device
	}{
		{"complete", extraFeatures{SubgroupSize: 32, SubgroupOps: all | 0x8, SubgroupStages: computeStage | 0x1}, ""},
		{"not in compute", extraFeatures{SubgroupSize: 32, SubgroupOps: all, SubgroupStages: 0x10}, "not supported in compute shaders"},
		{"no shuffle", extraFeatures{SubgroupSize: 64, SubgroupOps: subgroupBasic | subgroupArithmetic, SubgroupStages: computeStage}, "subgroup operations shuffle are not supported"},
		{"only basic", extraFeatures{SubgroupSize: 16, SubgroupOps: subgroupBasic, SubgroupStages: computeStage}, "arithmetic, shuffle"},
		{"size 0", extraFeatures{SubgroupOps: all, SubgroupStages: computeStage}, "subgroup size of 0"},
	}
	for _, c := range cases {
		got := missingSubgroupSupport(c.f)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
}
