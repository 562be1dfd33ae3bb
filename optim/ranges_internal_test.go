package optim

import (
	"testing"

	"github.com/effv2vk/effv2vk/engine"
)

// TestRangeElements: a binding range holds what one storage-buffer binding
// holds, unless the device's texel views (RGBA32F, 4 elements a texel) hold
// fewer, as the 65536-texel minimum Vulkan allows.
func TestRangeElements(t *testing.T) {
	for _, c := range []struct {
		storage, texels uint64
		want            int
	}{
		{128 << 20, 134217728, 32 << 20}, // lavapipe: the storage range binds
		{128 << 20, 65536, 262144},       // the minimum texel limit binds
		{1 << 30, 0, 256 << 20},          // no texel limit reported
	} {
		d := &engine.Device{Info: engine.DeviceInfo{MaxStorageBufferRange: c.storage, MaxTexelBufferElements: c.texels}}
		got := rangeElements(d)
		if got != c.want || got%(d.OffsetAlignment()/4) != 0 {
			t.Errorf("storage range %d bytes, %d texels: %d elements per range, want %d (a multiple of the offset alignment)", c.storage, c.texels, got, c.want)
		}
	}
}
