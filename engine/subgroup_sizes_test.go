package engine_test

import (
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// TestSubgroupSizes checks the subgroup sizes a device reports: a power of
// two, within [min, max] when the device reports the range (Vulkan 1.3).
func TestSubgroupSizes(t *testing.T) {
	d := enginetest.Open(t)
	info := d.Info
	pow2 := func(v uint32) bool { return v > 0 && v&(v-1) == 0 }
	if !pow2(info.SubgroupSize) {
		t.Fatalf("subgroup size %d is not a power of two", info.SubgroupSize)
	}
	if info.MinSubgroupSize == 0 && info.MaxSubgroupSize == 0 {
		t.Logf("%s (Vulkan %s) reports no subgroup size range", info.Name, info.APIVersion)
		return
	}
	if !pow2(info.MinSubgroupSize) || !pow2(info.MaxSubgroupSize) || info.MinSubgroupSize > info.SubgroupSize || info.SubgroupSize > info.MaxSubgroupSize {
		t.Fatalf("subgroup size %d outside the reported range %d to %d", info.SubgroupSize, info.MinSubgroupSize, info.MaxSubgroupSize)
	}
}
