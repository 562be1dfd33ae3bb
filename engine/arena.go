package engine

import (
	"fmt"
	"sort"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// defaultBlockSize is the size of each large device allocation that tensors
// are sub-allocated from.
const defaultBlockSize = 256 << 20

// firstBlockSize is the size of an arena's first block; later ones double up
// to defaultBlockSize.
const firstBlockSize = 16 << 20

// span is a free range in a block.
type span struct{ off, size uint64 }

// block is one VkDeviceMemory allocation.
type block struct {
	mem  vk.DeviceMemory
	size uint64
	ptr  unsafe.Pointer // persistent mapping, nil when not host-visible
	free []span         // sorted by offset, coalesced
	used uint64
}

// arena sub-allocates tensors from a few large allocations of one memory
// type: first fit, with neighbours coalesced on release.
type arena struct {
	dev     *Device
	memType uint32
	mapped  bool
	blocks  []*block
	peak    uint64
	inUse   uint64
}

// arenaFor returns the arena of memory type memType, mapped or not (a
// forced-staging device keeps unmapped tensors and mapped host tensors of
// one memory type apart).
func (d *Device) arenaFor(memType uint32, mapped bool) *arena {
	key := memType
	if mapped {
		key |= mappedArena
	}
	a, ok := d.arenas[key]
	if !ok {
		a = &arena{dev: d, memType: memType, mapped: mapped}
		d.arenas[key] = a
	}
	return a
}

// mappedArena marks the key of a mapped arena in Device.arenas.
const mappedArena = 1 << 31

func alignUp(x, a uint64) uint64 {
	if a <= 1 {
		return x
	}
	return (x + a - 1) / a * a
}

func (a *arena) heapSize() uint64 {
	mp := a.dev.Info.memoryProps
	t := mp.MemoryTypes[a.memType]
	t.Deref()
	h := mp.MemoryHeaps[t.HeapIndex]
	h.Deref()
	if l := a.dev.Info.heapLimit; l > 0 && l < uint64(h.Size) {
		return l
	}
	return uint64(h.Size)
}

// available returns how many more bytes the arena may allocate, given that
// it holds total already: the heap's budget left (VK_EXT_memory_budget,
// which counts other processes too) or else the heap's size less total. of
// says what the number is out of, for errors.
func (a *arena) available(total uint64) (avail uint64, of string) {
	heap := a.heapSize()
	if a.dev.budgetExt {
		mp := a.dev.Info.memoryProps
		t := mp.MemoryTypes[a.memType]
		t.Deref()
		budget, usage := heapBudget(a.dev.Info.handle, int(mp.MemoryHeapCount), int(t.HeapIndex))
		if budget > usage {
			avail = budget - usage
		}
		return avail, fmt.Sprintf("the heap's budget of %s (heap %s)", formatBytes(budget), formatBytes(heap))
	}
	if heap > total {
		avail = heap - total
	}
	return avail, "the heap's " + formatBytes(heap)
}

// alloc returns a block and offset for size bytes aligned to align.
func (a *arena) alloc(size, align uint64) (*block, uint64, error) {
	for _, b := range a.blocks {
		for i, s := range b.free {
			off := alignUp(s.off, align)
			if off+size > s.off+s.size {
				continue
			}
			// Split the span into [s.off, off) and [off+size, end).
			var rest []span
			if off > s.off {
				rest = append(rest, span{s.off, off - s.off})
			}
			if end := s.off + s.size; off+size < end {
				rest = append(rest, span{off + size, end - off - size})
			}
			b.free = append(b.free[:i], append(rest, b.free[i+1:]...)...)
			b.used += size
			a.account(int64(size))
			return b, off, nil
		}
	}
	// Blocks start small and double up to defaultBlockSize, so that a few
	// small tensors do not hold a 256 MiB block that a large one could use.
	bsize := uint64(firstBlockSize) << min(len(a.blocks), 4)
	if bsize > defaultBlockSize {
		bsize = defaultBlockSize
	}
	if max := a.dev.maxAllocation; max > 0 && bsize > max {
		bsize = max
	}
	if size > bsize {
		bsize = alignUp(size, 1<<20)
		if max := a.dev.maxAllocation; max > 0 && bsize > max {
			bsize = size
		}
	}
	var total uint64
	for _, b := range a.blocks {
		total += b.size
	}
	avail, of := a.available(total)
	if bsize > avail {
		bsize = avail
		if bsize < size {
			return nil, 0, fmt.Errorf("engine: allocating %s on %s: %w: %s already allocated, %s free of %s",
				formatBytes(size), a.dev.Info.Name, ErrOutOfDeviceMemory, formatBytes(total), formatBytes(avail), of)
		}
	}
	var mem vk.DeviceMemory
	ret := vk.AllocateMemory(a.dev.handle, &vk.MemoryAllocateInfo{
		SType:           vk.StructureTypeMemoryAllocateInfo,
		AllocationSize:  vk.DeviceSize(bsize),
		MemoryTypeIndex: a.memType,
	}, nil, &mem)
	if err := check(ret, fmt.Sprintf("vkAllocateMemory %s", formatBytes(bsize))); err != nil {
		return nil, 0, err
	}
	b := &block{mem: mem, size: bsize, free: []span{{0, bsize}}}
	if a.mapped {
		var p unsafe.Pointer
		if err := check(vk.MapMemory(a.dev.handle, mem, 0, vk.DeviceSize(bsize), 0, &p), "vkMapMemory"); err != nil {
			vk.FreeMemory(a.dev.handle, mem, nil)
			return nil, 0, err
		}
		b.ptr = p
	}
	a.blocks = append(a.blocks, b)
	return a.alloc(size, align)
}

func (a *arena) account(delta int64) {
	a.inUse = uint64(int64(a.inUse) + delta)
	if a.inUse > a.peak {
		a.peak = a.inUse
	}
}

// release returns [off, off+size) of b to its free list.
func (a *arena) release(b *block, off, size uint64) {
	b.free = append(b.free, span{off, size})
	sort.Slice(b.free, func(i, j int) bool { return b.free[i].off < b.free[j].off })
	merged := b.free[:1]
	for _, s := range b.free[1:] {
		last := &merged[len(merged)-1]
		if last.off+last.size == s.off {
			last.size += s.size
		} else {
			merged = append(merged, s)
		}
	}
	b.free = merged
	b.used -= size
	a.account(-int64(size))
}

func (a *arena) destroy() {
	for _, b := range a.blocks {
		if b.ptr != nil {
			vk.UnmapMemory(a.dev.handle, b.mem)
		}
		vk.FreeMemory(a.dev.handle, b.mem, nil)
	}
	a.blocks = nil
}

// MemoryStats reports device memory held by tensors.
type MemoryStats struct {
	InUse     uint64 // bytes held by live tensors
	Peak      uint64 // most bytes held at once since the device opened
	Allocated uint64 // bytes of device memory allocated in blocks
	Staging   uint64 // bytes of host-visible staging buffers held
}

// Memory returns the device's tensor memory statistics.
func (d *Device) Memory() MemoryStats {
	var s MemoryStats
	for _, a := range d.arenas {
		s.InUse += a.inUse
		s.Peak += a.peak
		for _, b := range a.blocks {
			s.Allocated += b.size
		}
	}
	s.Staging = d.uploadStaging.size + d.readback.size
	return s
}

func formatBytes(n uint64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.2f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// TensorMemory reports the device memory tensors can use: the size of the
// heap they live on (or its budget, with VK_EXT_memory_budget) and how
// much of it is still free for new tensors.
func (d *Device) TensorMemory() (capacity, free uint64) {
	a := d.arenaFor(d.memTypeMain, d.mainMapped)
	var total, used uint64
	for _, b := range a.blocks {
		total += b.size
		used += b.used
	}
	avail, _ := a.available(total)
	capacity = a.heapSize()
	if d.budgetExt {
		capacity = avail + total
	}
	return capacity, avail + (total - used)
}

// FormatBytes writes a byte count as B, KiB, MiB or GiB.
func FormatBytes(n uint64) string { return formatBytes(n) }
