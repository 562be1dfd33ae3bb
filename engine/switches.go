package engine

import (
	"fmt"
	"os"
	"strconv"

	vk "github.com/vulkan-go/vulkan"
)

// Switches that make a device behave like a more constrained one, so that
// the paths a discrete GPU takes run (and are tested) on lavapipe:
//
//	EFFV2VK_FORCE_STAGING=1        tensors are not host-mapped: every upload
//	                               and download goes through staging buffers
//	EFFV2VK_FORCE_STAGING=bar      the same, except small tensors, which stay
//	                               in device-local host-visible memory as on
//	                               a discrete GPU with a BAR window
//	EFFV2VK_MAX_STORAGE_RANGE=N    lowers maxStorageBufferRange to N bytes
//	EFFV2VK_OFFSET_ALIGNMENT=N     reports N as the buffer offset alignments
//	                               (4, as AMD reports)
//	EFFV2VK_DEVICE_MEMORY=N        caps the heap tensors live in at N bytes
//	                               (a device with less memory; ignored where
//	                               VK_EXT_memory_budget gives the budget)
const (
	envForceStaging    = "EFFV2VK_FORCE_STAGING"
	envMaxStorageRange = "EFFV2VK_MAX_STORAGE_RANGE"
	envOffsetAlignment = "EFFV2VK_OFFSET_ALIGNMENT"
	envDeviceMemory    = "EFFV2VK_DEVICE_MEMORY"
)

// minTexelAlignment is the alignment of every tensor offset the engine lays
// out, whatever the device reports: an RGBA32F texel view of a slice then
// starts on a whole texel and its rounded-up range stays inside the buffer.
const minTexelAlignment = 16

// switches are the constraint switches read from the environment.
type switches struct {
	forceStaging    bool
	maxStorageRange uint64 // 0: the device's own
	offsetAlignment uint64 // 0: the device's own
	deviceMemory    uint64 // 0: the heap's own size
	smallMapped     bool   // with forceStaging: small tensors still mapped
}

func switchesFromEnv() (switches, error) {
	var s switches
	switch v := os.Getenv(envForceStaging); v {
	case "", "0":
	case "1":
		s.forceStaging = true
	case "bar":
		s.forceStaging, s.smallMapped = true, true
	default:
		return s, fmt.Errorf("engine: %s=%q: use 1 or bar (or 0, or unset it)", envForceStaging, v)
	}
	if v := os.Getenv(envMaxStorageRange); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < 4096 || n%minTexelAlignment != 0 {
			return s, fmt.Errorf("engine: %s=%q: give a byte count >= 4096 and a multiple of 16 (e.g. 1048576), or unset it", envMaxStorageRange, v)
		}
		s.maxStorageRange = n
	}
	if v := os.Getenv(envOffsetAlignment); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n == 0 || n&(n-1) != 0 {
			return s, fmt.Errorf("engine: %s=%q: give a power of two (e.g. 4), or unset it", envOffsetAlignment, v)
		}
		s.offsetAlignment = n
	}
	if v := os.Getenv(envDeviceMemory); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil || n < 1<<20 {
			return s, fmt.Errorf("engine: %s=%q: give a byte count of at least 1048576 (e.g. 268435456 for 256 MiB), or unset it", envDeviceMemory, v)
		}
		s.deviceMemory = n
	}
	return s, nil
}

// apply lowers info's limits as the switches say. A lowered offset
// alignment must still give layouts the device accepts: every layout is
// aligned to at least 16 bytes, so the device's own alignment must not be
// larger than that.
func (s switches) apply(info *DeviceInfo) error {
	if s.maxStorageRange > 0 {
		if s.maxStorageRange > info.MaxStorageBufferRange {
			return fmt.Errorf("engine: %s=%d is above %s's own maxStorageBufferRange %d: it can only lower it",
				envMaxStorageRange, s.maxStorageRange, info.Name, info.MaxStorageBufferRange)
		}
		info.MaxStorageBufferRange = s.maxStorageRange
	}
	if s.offsetAlignment > 0 {
		own := deviceOffsetAlignment(info)
		if max(s.offsetAlignment, minTexelAlignment) < own {
			return fmt.Errorf("engine: %s=%d: %s needs offsets aligned to %d bytes; the switch can only simulate alignments of up to 16 bytes there",
				envOffsetAlignment, s.offsetAlignment, info.Name, own)
		}
		info.limits.MinStorageBufferOffsetAlignment = vk.DeviceSize(s.offsetAlignment)
		info.limits.MinTexelBufferOffsetAlignment = vk.DeviceSize(s.offsetAlignment)
	}
	info.heapLimit = s.deviceMemory
	return nil
}

// deviceOffsetAlignment is the larger of the storage and texel buffer offset
// alignments the device reports.
func deviceOffsetAlignment(info *DeviceInfo) uint64 {
	return max(uint64(info.limits.MinStorageBufferOffsetAlignment), uint64(info.limits.MinTexelBufferOffsetAlignment))
}
