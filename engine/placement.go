package engine

import (
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// Memory property bits, as plain numbers so that placement can be decided
// (and tested) on described devices as well as real ones.
const (
	memDeviceLocal  = uint32(vk.MemoryPropertyDeviceLocalBit)
	memHostVisible  = uint32(vk.MemoryPropertyHostVisibleBit)
	memHostCoherent = uint32(vk.MemoryPropertyHostCoherentBit)
	memHostCached   = uint32(vk.MemoryPropertyHostCachedBit)
)

// memoryLayout is what placement needs to know of a device's memory: its
// heaps and memory types.
type memoryLayout struct {
	heaps []MemoryHeap
	types []memoryTypeDesc
}

// memoryTypeDesc is one memory type: its property bits and its heap.
type memoryTypeDesc struct {
	flags uint32
	heap  int
}

// placement says where tensors and staging buffers live.
type placement struct {
	tensor       int  // memory type of tensors
	tensorMapped bool // tensors are read and written through a mapping
	upload       int  // host-visible type staging uploads go through
	readback     int  // host-visible type downloads go through, cached when offered
	small        int  // device-local, host-visible type for small tensors when tensors are unmapped (-1: none)
}

// largeMappedHeap is the smallest host-visible device-local heap that holds
// tensors mapped: a 256 MiB PCIe BAR window is not such a heap.
const largeMappedHeap = 1 << 30

// place decides where tensors live: in device-local memory on the largest
// device-local heap. They are mapped (uploads and downloads are plain copies)
// only where that memory is itself host-visible and coherent, the heap is
// large, and reading it from the host is cheap: integrated GPUs and CPU
// devices (lavapipe), or a host-cached type. Everywhere else (discrete GPUs,
// with or without resizable BAR) transfers go through staging buffers:
// uploads through host-visible coherent memory (system memory preferred),
// downloads through host-cached memory. forceStaging keeps tensors unmapped
// on any device.
func place(m memoryLayout, devType DeviceType, forceStaging bool) (placement, error) {
	heap := -1
	for i, h := range m.heaps {
		if h.DeviceLocal && (heap < 0 || h.Size > m.heaps[heap].Size) {
			heap = i
		}
	}
	if heap < 0 { // no device-local heap: the largest one
		for i, h := range m.heaps {
			if heap < 0 || h.Size > m.heaps[heap].Size {
				heap = i
			}
		}
	}
	p := placement{tensor: -1, upload: -1, readback: -1, small: -1}
	const coherentVisible = memHostVisible | memHostCoherent
	cheapHostReads := devType == IntegratedGPU || devType == CPU
	for i, t := range m.types {
		if t.heap != heap {
			continue
		}
		mappable := !forceStaging && t.flags&coherentVisible == coherentVisible && m.heaps[heap].Size >= largeMappedHeap &&
			(cheapHostReads || t.flags&memHostCached != 0)
		switch {
		case p.tensor < 0:
			p.tensor, p.tensorMapped = i, mappable
		case mappable && !p.tensorMapped:
			p.tensor, p.tensorMapped = i, true
		case !p.tensorMapped && !mappable && better(t.flags, m.types[p.tensor].flags):
			p.tensor = i
		}
	}
	if p.tensor < 0 {
		return p, fmt.Errorf("no memory type on heap %d", heap)
	}
	for i, t := range m.types {
		if t.flags&coherentVisible != coherentVisible {
			continue
		}
		// Uploads: system memory (not device-local) first.
		if p.upload < 0 || m.types[p.upload].flags&memDeviceLocal != 0 && t.flags&memDeviceLocal == 0 {
			p.upload = i
		}
		// Downloads: host-cached first, then system memory.
		if p.readback < 0 || readbackRank(t.flags) > readbackRank(m.types[p.readback].flags) {
			p.readback = i
		}
	}
	if p.upload < 0 {
		return p, fmt.Errorf("no host-visible coherent memory type for transfers")
	}
	// Small tensors where device-local memory is also host-visible (a PCIe
	// BAR window, or all of VRAM with resizable BAR): written and read by
	// the host through the mapping, no staging copy and no wait.
	const bar = memDeviceLocal | coherentVisible
	for i, t := range m.types {
		if !p.tensorMapped && p.small < 0 && t.flags&bar == bar {
			p.small = i
		}
	}
	return p, nil
}

// better prefers, for unmapped tensors, device-local memory with the fewest
// host properties (plain VRAM rather than a BAR window).
func better(a, b uint32) bool {
	if a&memDeviceLocal != b&memDeviceLocal {
		return a&memDeviceLocal != 0
	}
	return a&(memHostVisible|memHostCached) == 0 && b&(memHostVisible|memHostCached) != 0
}

func readbackRank(flags uint32) int {
	r := 0
	if flags&memHostCached != 0 {
		r += 2
	}
	if flags&memDeviceLocal == 0 {
		r++
	}
	return r
}

// layoutOf describes a device's memory for place.
func layoutOf(info *DeviceInfo) memoryLayout {
	mp := info.memoryProps
	m := memoryLayout{heaps: info.Heaps}
	for i := uint32(0); i < mp.MemoryTypeCount; i++ {
		t := mp.MemoryTypes[i]
		t.Deref()
		m.types = append(m.types, memoryTypeDesc{flags: uint32(t.PropertyFlags), heap: int(t.HeapIndex)})
	}
	return m
}
