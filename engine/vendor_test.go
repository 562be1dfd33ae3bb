package engine

import "testing"

// TestVendorOf names the vendors by their PCI (or Khronos) vendor IDs, and
// an unknown one by its ID.
func TestVendorOf(t *testing.T) {
	for id, want := range map[uint32]Vendor{
		0x10de: VendorNVIDIA, 0x1002: VendorAMD, 0x8086: VendorIntel, 0x106b: VendorApple,
		0x13b5: VendorARM, 0x5143: VendorQualcomm, 0x10005: VendorMesa, 0x1ae0: "0x1ae0",
	} {
		if got := VendorOf(id); got != want {
			t.Errorf("VendorOf(%#x) = %q, want %q", id, got, want)
		}
	}
}
