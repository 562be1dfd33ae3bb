package engine

/*
#cgo LDFLAGS: -lvulkan
#include <stdlib.h>
#include <string.h>
#include <vulkan/vulkan.h>

// effv2vk_features holds what vulkan-go (Vulkan 1.0 headers) cannot query.
typedef struct {
	uint32_t subgroupSize;
	uint32_t subgroupOps;
	uint32_t subgroupStages;
	uint32_t minSubgroupSize;
	uint32_t maxSubgroupSize;
	uint32_t requiredSubgroupSizeStages;
	uint32_t subgroupSizeControl;
	uint32_t computeFullSubgroups;
	uint32_t shaderFloat16;
	uint32_t shaderInt8;
	uint32_t storageBuffer16;
	uint32_t shaderFloat64;
	uint32_t shaderInt64;
	uint32_t timelineSemaphore;
	uint8_t deviceUUID[VK_UUID_SIZE];
} effv2vk_features;

// sizeControl says the device offers VK_EXT_subgroup_size_control (core in
// Vulkan 1.3); its properties and features are queried only then.
static void effv2vk_query_features(VkPhysicalDevice pd, uint32_t apiVersion, uint32_t sizeControl, effv2vk_features *out) {
	memset(out, 0, sizeof(*out));
	if (apiVersion < VK_API_VERSION_1_1) return;
	VkPhysicalDeviceSubgroupSizeControlProperties sizes;
	memset(&sizes, 0, sizeof(sizes));
	sizes.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_PROPERTIES;
	VkPhysicalDeviceSubgroupProperties sub;
	memset(&sub, 0, sizeof(sub));
	sub.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_PROPERTIES;
	if (sizeControl) sub.pNext = &sizes;
	VkPhysicalDeviceIDProperties ids;
	memset(&ids, 0, sizeof(ids));
	ids.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_ID_PROPERTIES;
	ids.pNext = &sub;
	VkPhysicalDeviceProperties2 props;
	memset(&props, 0, sizeof(props));
	props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
	props.pNext = &ids;
	vkGetPhysicalDeviceProperties2(pd, &props);
	out->subgroupSize = sub.subgroupSize;
	out->subgroupOps = sub.supportedOperations;
	out->subgroupStages = sub.supportedStages;
	out->minSubgroupSize = sizes.minSubgroupSize;
	out->maxSubgroupSize = sizes.maxSubgroupSize;
	out->requiredSubgroupSizeStages = sizes.requiredSubgroupSizeStages;
	memcpy(out->deviceUUID, ids.deviceUUID, VK_UUID_SIZE);

	VkPhysicalDevice16BitStorageFeatures s16;
	memset(&s16, 0, sizeof(s16));
	s16.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_16BIT_STORAGE_FEATURES;
	VkPhysicalDeviceVulkan12Features v12;
	memset(&v12, 0, sizeof(v12));
	v12.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_VULKAN_1_2_FEATURES;
	VkPhysicalDeviceSubgroupSizeControlFeaturesEXT sizeFeats;
	memset(&sizeFeats, 0, sizeof(sizeFeats));
	sizeFeats.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT;
	VkPhysicalDeviceFeatures2 feats;
	memset(&feats, 0, sizeof(feats));
	feats.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_FEATURES_2;
	feats.pNext = &s16;
	if (apiVersion >= VK_API_VERSION_1_2) s16.pNext = &v12;
	if (sizeControl) {
		sizeFeats.pNext = s16.pNext;
		s16.pNext = &sizeFeats;
	}
	vkGetPhysicalDeviceFeatures2(pd, &feats);
	out->subgroupSizeControl = sizeFeats.subgroupSizeControl;
	out->computeFullSubgroups = sizeFeats.computeFullSubgroups;
	out->storageBuffer16 = s16.storageBuffer16BitAccess;
	out->shaderFloat64 = feats.features.shaderFloat64;
	out->shaderInt64 = feats.features.shaderInt64;
	if (apiVersion >= VK_API_VERSION_1_2) {
		out->shaderFloat16 = v12.shaderFloat16;
		out->shaderInt8 = v12.shaderInt8;
		out->timelineSemaphore = v12.timelineSemaphore;
	}
}

// effv2vk_validation_features returns a C-allocated VkValidationFeaturesEXT
// that enables synchronization validation, for the instance's pNext chain.
static void *effv2vk_validation_features(void) {
	VkValidationFeatureEnableEXT *en = malloc(sizeof(VkValidationFeatureEnableEXT));
	en[0] = VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT;
	VkValidationFeaturesEXT *f = calloc(1, sizeof(VkValidationFeaturesEXT));
	f->sType = VK_STRUCTURE_TYPE_VALIDATION_FEATURES_EXT;
	f->enabledValidationFeatureCount = 1;
	f->pEnabledValidationFeatures = en;
	return f;
}

// effv2vk_size_control_features returns a C-allocated
// VkPhysicalDeviceSubgroupSizeControlFeaturesEXT enabling the given
// features, for the device's pNext chain; free it with free().
static void *effv2vk_size_control_features(uint32_t sizeControl, uint32_t fullSubgroups) {
	VkPhysicalDeviceSubgroupSizeControlFeaturesEXT *f = calloc(1, sizeof(*f));
	f->sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_SUBGROUP_SIZE_CONTROL_FEATURES_EXT;
	f->subgroupSizeControl = sizeControl ? VK_TRUE : VK_FALSE;
	f->computeFullSubgroups = fullSubgroups ? VK_TRUE : VK_FALSE;
	return f;
}

// effv2vk_required_subgroup_size returns a C-allocated
// VkPipelineShaderStageRequiredSubgroupSizeCreateInfoEXT asking for size
// lanes, for a shader stage's pNext chain; free it with free().
static void *effv2vk_required_subgroup_size(uint32_t size) {
	VkPipelineShaderStageRequiredSubgroupSizeCreateInfoEXT *r = calloc(1, sizeof(*r));
	r->sType = VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_REQUIRED_SUBGROUP_SIZE_CREATE_INFO_EXT;
	r->requiredSubgroupSize = size;
	return r;
}

static void effv2vk_free_validation_features(void *p) {
	VkValidationFeaturesEXT *f = p;
	free((void *)f->pEnabledValidationFeatures);
	free(f);
}
*/
import "C"

import (
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// extraFeatures are the properties and features beyond Vulkan 1.0.
type extraFeatures struct {
	SubgroupSize    uint32
	SubgroupOps     uint32
	SubgroupStages  uint32
	MinSubgroupSize uint32 // 0 before Vulkan 1.3
	MaxSubgroupSize uint32
	// RequiredSizeStages are the stages whose subgroup size a pipeline may
	// require; SizeControl and FullSubgroups the features
	// subgroupSizeControl and computeFullSubgroups (all zero without
	// VK_EXT_subgroup_size_control).
	RequiredSizeStages uint32
	SizeControl        bool
	FullSubgroups      bool
	ShaderFloat16      bool
	ShaderInt8         bool
	StorageBuffer16    bool
	ShaderFloat64      bool
	ShaderInt64        bool
	TimelineSemaphore  bool
	DeviceUUID         [16]byte
}

func queryExtraFeatures(pd vk.PhysicalDevice, apiVersion uint32, sizeControl bool) extraFeatures {
	var f C.effv2vk_features
	ext := C.uint32_t(0)
	if sizeControl {
		ext = 1
	}
	C.effv2vk_query_features(C.VkPhysicalDevice(unsafe.Pointer(pd)), C.uint32_t(apiVersion), ext, &f)
	out := extraFeatures{
		SubgroupSize:       uint32(f.subgroupSize),
		SubgroupOps:        uint32(f.subgroupOps),
		SubgroupStages:     uint32(f.subgroupStages),
		MinSubgroupSize:    uint32(f.minSubgroupSize),
		MaxSubgroupSize:    uint32(f.maxSubgroupSize),
		RequiredSizeStages: uint32(f.requiredSubgroupSizeStages),
		SizeControl:        f.subgroupSizeControl != 0,
		FullSubgroups:      f.computeFullSubgroups != 0,
		ShaderFloat16:      f.shaderFloat16 != 0,
		ShaderInt8:         f.shaderInt8 != 0,
		StorageBuffer16:    f.storageBuffer16 != 0,
		ShaderFloat64:      f.shaderFloat64 != 0,
		ShaderInt64:        f.shaderInt64 != 0,
		TimelineSemaphore:  f.timelineSemaphore != 0,
	}
	for i := range out.DeviceUUID {
		out.DeviceUUID[i] = byte(f.deviceUUID[i])
	}
	return out
}

// validationFeatures is a C-allocated VkValidationFeaturesEXT enabling
// synchronization validation; free it with freeValidationFeatures.
func validationFeatures() unsafe.Pointer { return C.effv2vk_validation_features() }

func freeValidationFeatures(p unsafe.Pointer) { C.effv2vk_free_validation_features(p) }

// sizeControlFeatures is a C-allocated VkPhysicalDeviceSubgroupSizeControlFeaturesEXT
// enabling subgroupSizeControl and, when fullSubgroups, computeFullSubgroups,
// for vkCreateDevice's pNext; free it with cFree.
func sizeControlFeatures(fullSubgroups bool) unsafe.Pointer {
	full := C.uint32_t(0)
	if fullSubgroups {
		full = 1
	}
	return C.effv2vk_size_control_features(1, full)
}

// requiredSubgroupSizeInfo is a C-allocated
// VkPipelineShaderStageRequiredSubgroupSizeCreateInfoEXT asking for size
// lanes, for a shader stage's pNext; free it with cFree.
func requiredSubgroupSizeInfo(size uint32) unsafe.Pointer {
	return C.effv2vk_required_subgroup_size(C.uint32_t(size))
}

// cBytes copies b into C memory (for pointers stored inside create-info
// structs, which cgo must not see as Go pointers). Free with cFree.
func cBytes(b []byte) unsafe.Pointer { return C.CBytes(b) }

func cFree(p unsafe.Pointer) { C.free(p) }
