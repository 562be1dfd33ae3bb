package engine

/*
#include <string.h>
#include <vulkan/vulkan.h>

// effv2vk_max_allocation returns maxMemoryAllocationSize (Vulkan 1.1), 0 when
// the device does not report it.
static uint64_t effv2vk_max_allocation(VkPhysicalDevice pd, uint32_t apiVersion) {
	if (apiVersion < VK_API_VERSION_1_1) return 0;
	VkPhysicalDeviceMaintenance3Properties m3;
	memset(&m3, 0, sizeof(m3));
	m3.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MAINTENANCE_3_PROPERTIES;
	VkPhysicalDeviceProperties2 props;
	memset(&props, 0, sizeof(props));
	props.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_PROPERTIES_2;
	props.pNext = &m3;
	vkGetPhysicalDeviceProperties2(pd, &props);
	return m3.maxMemoryAllocationSize;
}

// effv2vk_heap_budget writes the budget and this process's usage of each
// heap (VK_EXT_memory_budget, which the caller checked is present).
static void effv2vk_heap_budget(VkPhysicalDevice pd, uint64_t *budget, uint64_t *usage, uint32_t n) {
	VkPhysicalDeviceMemoryBudgetPropertiesEXT b;
	memset(&b, 0, sizeof(b));
	b.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_BUDGET_PROPERTIES_EXT;
	VkPhysicalDeviceMemoryProperties2 mp;
	memset(&mp, 0, sizeof(mp));
	mp.sType = VK_STRUCTURE_TYPE_PHYSICAL_DEVICE_MEMORY_PROPERTIES_2;
	mp.pNext = &b;
	vkGetPhysicalDeviceMemoryProperties2(pd, &mp);
	for (uint32_t i = 0; i < n && i < VK_MAX_MEMORY_HEAPS; i++) {
		budget[i] = b.heapBudget[i];
		usage[i] = b.heapUsage[i];
	}
}
*/
import "C"

import (
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// memoryBudgetExtension is VK_EXT_memory_budget: how much of each heap this
// process may use now, given what others use.
const memoryBudgetExtension = "VK_EXT_memory_budget"

func queryMaxAllocation(pd vk.PhysicalDevice, apiVersion uint32) uint64 {
	return uint64(C.effv2vk_max_allocation(C.VkPhysicalDevice(unsafe.Pointer(pd)), C.uint32_t(apiVersion)))
}

// heapBudget returns the budget and this process's usage of heap h.
func heapBudget(pd vk.PhysicalDevice, heaps int, h int) (budget, usage uint64) {
	b := make([]C.uint64_t, C.VK_MAX_MEMORY_HEAPS)
	u := make([]C.uint64_t, C.VK_MAX_MEMORY_HEAPS)
	C.effv2vk_heap_budget(C.VkPhysicalDevice(unsafe.Pointer(pd)), &b[0], &u[0], C.uint32_t(heaps))
	return uint64(b[h]), uint64(u[h])
}
