package engine

import (
	"fmt"
	"strings"
)

// Subgroup operation bits of VkSubgroupFeatureFlagBits and the compute
// stage bit of VkShaderStageFlagBits (vulkan-go's 1.0 headers lack them).
const (
	subgroupBasic      = 0x1
	subgroupArithmetic = 0x4
	subgroupShuffle    = 0x10
	computeStage       = 0x20
)

// requiredSubgroupOps are the subgroup operations the kernels use: basic
// (gl_SubgroupInvocationID), arithmetic (subgroupAdd/Max/Min in the
// reductions and the classifier) and shuffle (subgroupShuffle and
// subgroupShuffleXor in the convolutions, GEMMs and squeeze-excite).
var requiredSubgroupOps = []struct {
	bit  uint32
	name string
}{{subgroupBasic, "basic"}, {subgroupArithmetic, "arithmetic"}, {subgroupShuffle, "shuffle"}}

// missingSubgroupSupport says why a device's subgroups cannot run the
// kernels ("" when they can): compute shaders must support subgroup
// operations, and the basic, arithmetic and shuffle ones among them.
func missingSubgroupSupport(f extraFeatures) string {
	if f.SubgroupStages&computeStage == 0 {
		return "subgroup operations are not supported in compute shaders (VkPhysicalDeviceSubgroupProperties.supportedStages lacks COMPUTE): use another device"
	}
	if f.SubgroupSize == 0 {
		return "the driver reports a subgroup size of 0: use another device or driver"
	}
	var missing []string
	for _, op := range requiredSubgroupOps {
		if f.SubgroupOps&op.bit == 0 {
			missing = append(missing, op.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("subgroup operations %s are not supported (the kernels need basic, arithmetic and shuffle): use another device or a newer driver", strings.Join(missing, ", "))
	}
	return ""
}
