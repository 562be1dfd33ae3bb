package engine

import "fmt"

// Vendor is who made a device, named from its PCI vendor ID
// (VkPhysicalDeviceProperties.vendorID). Vendors without a constant here
// are named by their ID in hex ("0x1ae0").
type Vendor string

// The vendors whose devices effv2vk tells apart.
const (
	VendorNVIDIA   Vendor = "NVIDIA"   // 0x10DE
	VendorAMD      Vendor = "AMD"      // 0x1002
	VendorIntel    Vendor = "Intel"    // 0x8086
	VendorApple    Vendor = "Apple"    // 0x106B
	VendorARM      Vendor = "ARM"      // 0x13B5
	VendorQualcomm Vendor = "Qualcomm" // 0x5143
	// VendorMesa is Mesa's own Khronos vendor ID (VK_VENDOR_ID_MESA,
	// 0x10005), which its software driver lavapipe (llvmpipe) reports.
	VendorMesa Vendor = "Mesa"
)

// vendorIDs maps PCI (or Khronos) vendor IDs to vendors.
var vendorIDs = map[uint32]Vendor{
	0x10de:  VendorNVIDIA,
	0x1002:  VendorAMD,
	0x8086:  VendorIntel,
	0x106b:  VendorApple,
	0x13b5:  VendorARM,
	0x5143:  VendorQualcomm,
	0x10005: VendorMesa,
}

// VendorOf names the vendor of vendor ID id.
func VendorOf(id uint32) Vendor {
	if v, ok := vendorIDs[id]; ok {
		return v
	}
	return Vendor(fmt.Sprintf("0x%04x", id))
}
