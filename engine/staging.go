package engine

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// stagingChunk is the most a staging buffer grows to; larger transfers go
// through it in chunks.
const stagingChunk = 64 << 20

// stagingGranule rounds staging sizes up, so that transfers of similar size
// reuse one buffer.
const stagingGranule = 64 << 10

// stagingBuffer is a host-visible buffer that transfers between the host and
// unmapped tensors go through. It is sized to the largest transfer seen (up
// to stagingChunk) and kept for the next one.
type stagingBuffer struct {
	memType int
	buf     vk.Buffer
	mem     vk.DeviceMemory
	ptr     unsafe.Pointer
	size    uint64
}

// ensure makes the buffer hold at least need bytes.
func (s *stagingBuffer) ensure(d *Device, need uint64) error {
	if s.size >= need {
		return nil
	}
	s.destroy(d)
	size := alignUp(need, stagingGranule)
	if max := d.maxAllocation; max > 0 && size > max {
		size = max
	}
	var buf vk.Buffer
	if err := check(vk.CreateBuffer(d.handle, &vk.BufferCreateInfo{
		SType:       vk.StructureTypeBufferCreateInfo,
		Size:        vk.DeviceSize(size),
		Usage:       vk.BufferUsageFlags(vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit),
		SharingMode: vk.SharingModeExclusive,
	}, nil, &buf), "vkCreateBuffer staging"); err != nil {
		return err
	}
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(d.handle, buf, &req)
	req.Deref()
	if req.MemoryTypeBits&(1<<uint(s.memType)) == 0 {
		vk.DestroyBuffer(d.handle, buf, nil)
		return fmt.Errorf("engine: a staging buffer of %s cannot live in memory type %d", d.Info.Name, s.memType)
	}
	var mem vk.DeviceMemory
	if err := check(vk.AllocateMemory(d.handle, &vk.MemoryAllocateInfo{
		SType:           vk.StructureTypeMemoryAllocateInfo,
		AllocationSize:  req.Size,
		MemoryTypeIndex: uint32(s.memType),
	}, nil, &mem), "vkAllocateMemory staging "+formatBytes(uint64(req.Size))); err != nil {
		vk.DestroyBuffer(d.handle, buf, nil)
		return err
	}
	if err := check(vk.BindBufferMemory(d.handle, buf, mem, 0), "vkBindBufferMemory staging"); err != nil {
		vk.FreeMemory(d.handle, mem, nil)
		vk.DestroyBuffer(d.handle, buf, nil)
		return err
	}
	var p unsafe.Pointer
	if err := check(vk.MapMemory(d.handle, mem, 0, vk.DeviceSize(vk.WholeSize), 0, &p), "vkMapMemory staging"); err != nil {
		vk.FreeMemory(d.handle, mem, nil)
		vk.DestroyBuffer(d.handle, buf, nil)
		return err
	}
	s.buf, s.mem, s.ptr, s.size = buf, mem, p, size
	return nil
}

func (s *stagingBuffer) destroy(d *Device) {
	if s.size == 0 {
		return
	}
	vk.UnmapMemory(d.handle, s.mem)
	vk.DestroyBuffer(d.handle, s.buf, nil)
	vk.FreeMemory(d.handle, s.mem, nil)
	s.buf, s.mem, s.ptr, s.size = vk.NullBuffer, vk.NullDeviceMemory, nil, 0
}

// staged moves data between the host and an unmapped tensor through the
// upload or readback staging buffer, in chunks of at most stagingChunk.
func (d *Device) staged(t *Tensor, data []byte, upload bool) (err error) {
	d.stagingMu.Lock()
	defer d.stagingMu.Unlock()
	withoutGC(func() { err = d.stagedNow(t, data, upload) })
	return err
}

func (d *Device) stagedNow(t *Tensor, data []byte, upload bool) error {
	s := &d.readback
	if upload {
		s = &d.uploadStaging
	}
	if err := s.ensure(d, min(uint64(len(data)), stagingChunk)); err != nil {
		return fmt.Errorf("engine: staging for %s: %w", t, err)
	}
	for done := uint64(0); done < uint64(len(data)); {
		n := min(s.size, uint64(len(data))-done)
		host := unsafe.Slice((*byte)(s.ptr), n)
		if upload {
			copy(host, data[done:done+n])
		}
		err := d.oneShot(func(cmd vk.CommandBuffer) {
			region := []vk.BufferCopy{{Size: vk.DeviceSize(n)}}
			if upload {
				region[0].DstOffset = vk.DeviceSize(t.off + done)
				vk.CmdCopyBuffer(cmd, s.buf, t.buf, 1, region)
			} else {
				region[0].SrcOffset = vk.DeviceSize(t.off + done)
				vk.CmdCopyBuffer(cmd, t.buf, s.buf, 1, region)
			}
		})
		if err != nil {
			return err
		}
		if !upload {
			copy(data[done:done+n], host)
		}
		done += n
	}
	return nil
}
