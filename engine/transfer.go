package engine

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// rawBytes views a slice of fixed-size numbers as bytes.
func rawBytes(data any) ([]byte, DType, error) {
	switch v := data.(type) {
	case []float32:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v)), Float32, nil
	case []int32:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v)), Int32, nil
	case []uint32:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 4*len(v)), Uint32, nil
	case []uint8:
		return v, Uint8, nil
	case []uint16:
		return unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(v))), 2*len(v)), Float16, nil
	}
	return nil, 0, fmt.Errorf("engine: unsupported host slice type %T", data)
}

// Upload copies data ([]float32, []int32, []uint32, []uint8 or []uint16 for
// float16) into the tensor. Its length and element type must match. Do not
// upload while a sequence that uses the tensor runs.
func (t *Tensor) Upload(data any) error {
	b, dt, err := rawBytes(data)
	if err != nil {
		return err
	}
	if dt != t.DType || uint64(len(b)) != t.bytes {
		return fmt.Errorf("engine: upload to %s: got %d bytes of %s, want %d bytes of %s", t, len(b), dt, t.bytes, t.DType)
	}
	if t.planned() {
		return fmt.Errorf("engine: upload to %s: %w", t, ErrPlanned)
	}
	if dst := t.hostBytes(); dst != nil {
		copy(dst, b)
		return nil
	}
	return t.dev.staged(t, b, true)
}

// Download copies the tensor into data, which must match its length and
// element type.
func (t *Tensor) Download(data any) error {
	b, dt, err := rawBytes(data)
	if err != nil {
		return err
	}
	if dt != t.DType || uint64(len(b)) != t.bytes {
		return fmt.Errorf("engine: download of %s: got room for %d bytes of %s, want %d bytes of %s", t, len(b), dt, t.bytes, t.DType)
	}
	if t.planned() {
		return fmt.Errorf("engine: download of %s: %w", t, ErrPlanned)
	}
	if src := t.hostBytes(); src != nil {
		copy(b, src)
		return nil
	}
	return t.dev.staged(t, b, false)
}

// Floats downloads a float32 tensor into a new slice.
func (t *Tensor) Floats() ([]float32, error) {
	out := make([]float32, t.Len())
	return out, t.Download(out)
}

// oneShot records fn into a temporary command buffer between full barriers,
// submits it and waits.
func (d *Device) oneShot(fn func(cmd vk.CommandBuffer)) (err error) {
	withoutGC(func() { err = d.oneShotNow(fn) })
	return err
}

func (d *Device) oneShotNow(fn func(cmd vk.CommandBuffer)) error {
	cmd, err := d.allocCommandBuffer()
	if err != nil {
		return err
	}
	defer vk.FreeCommandBuffers(d.handle, d.cmdPool, 1, []vk.CommandBuffer{cmd})
	if err := check(vk.BeginCommandBuffer(cmd, &vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo,
		Flags: vk.CommandBufferUsageFlags(vk.CommandBufferUsageOneTimeSubmitBit),
	}), "vkBeginCommandBuffer"); err != nil {
		return err
	}
	fullBarrier(cmd)
	fn(cmd)
	fullBarrier(cmd)
	if err := check(vk.EndCommandBuffer(cmd), "vkEndCommandBuffer"); err != nil {
		return err
	}
	return d.submitWait(cmd)
}

func (d *Device) allocCommandBuffer() (vk.CommandBuffer, error) {
	cmds := make([]vk.CommandBuffer, 1)
	if err := check(vk.AllocateCommandBuffers(d.handle, &vk.CommandBufferAllocateInfo{
		SType:              vk.StructureTypeCommandBufferAllocateInfo,
		CommandPool:        d.cmdPool,
		Level:              vk.CommandBufferLevelPrimary,
		CommandBufferCount: 1,
	}, cmds), "vkAllocateCommandBuffers"); err != nil {
		return nil, err
	}
	return cmds[0], nil
}

// submitWait submits one command buffer and waits for it with the device's
// fence. Only the submit runs with the collector paused (its SubmitInfo is
// copied to C memory); the wait passes plain handles.
func (d *Device) submitWait(cmd vk.CommandBuffer) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var ret vk.Result
	withoutGC(func() {
		ret = vk.QueueSubmit(d.queue, 1, []vk.SubmitInfo{{
			SType:              vk.StructureTypeSubmitInfo,
			CommandBufferCount: 1,
			PCommandBuffers:    []vk.CommandBuffer{cmd},
		}}, d.fence)
	})
	if err := check(ret, "vkQueueSubmit"); err != nil {
		return err
	}
	if err := check(vk.WaitForFences(d.handle, 1, []vk.Fence{d.fence}, vk.True, ^uint64(0)), "vkWaitForFences"); err != nil {
		return err
	}
	return check(vk.ResetFences(d.handle, 1, []vk.Fence{d.fence}), "vkResetFences")
}

// allAccess is every read and write the engine's commands make.
const allAccess = vk.AccessFlags(vk.AccessShaderReadBit | vk.AccessShaderWriteBit | vk.AccessTransferReadBit |
	vk.AccessTransferWriteBit | vk.AccessHostReadBit | vk.AccessHostWriteBit | vk.AccessUniformReadBit)

// fullBarrier makes every earlier write visible to every later access.
func fullBarrier(cmd vk.CommandBuffer) {
	vk.CmdPipelineBarrier(cmd, vk.PipelineStageFlags(vk.PipelineStageAllCommandsBit), vk.PipelineStageFlags(vk.PipelineStageAllCommandsBit), 0,
		1, []vk.MemoryBarrier{{SType: vk.StructureTypeMemoryBarrier, SrcAccessMask: allAccess, DstAccessMask: allAccess}}, 0, nil, 0, nil)
}
