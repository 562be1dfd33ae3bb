package engine

import (
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// checkFrame checks that frame (and readback, when not nil) are uint32
// tensors of exactly w x h pixels.
func checkFrame(frame, readback *Tensor, w, h int) error {
	for _, t := range []*Tensor{frame, readback} {
		if t == nil {
			continue
		}
		if t.DType != Uint32 && t.DType != Int32 || t.Len() != w*h || t.freed {
			return fmt.Errorf("engine: frame tensor %s must be %dx%d packed 8-bit pixels (uint32), one per pixel", t, w, h)
		}
	}
	if frame == nil {
		return fmt.Errorf("engine: no frame tensor to show")
	}
	return nil
}

// imageBarrier moves img from layout old to new, ordering the given stages
// and accesses.
func imageBarrier(cmd vk.CommandBuffer, img vk.Image, old, new vk.ImageLayout, srcStage, dstStage vk.PipelineStageFlagBits, srcAccess, dstAccess vk.AccessFlagBits) {
	vk.CmdPipelineBarrier(cmd, vk.PipelineStageFlags(srcStage), vk.PipelineStageFlags(dstStage), 0, 0, nil, 0, nil, 1, []vk.ImageMemoryBarrier{{
		SType:               vk.StructureTypeImageMemoryBarrier,
		SrcAccessMask:       vk.AccessFlags(srcAccess),
		DstAccessMask:       vk.AccessFlags(dstAccess),
		OldLayout:           old,
		NewLayout:           new,
		SrcQueueFamilyIndex: vk.QueueFamilyIgnored,
		DstQueueFamilyIndex: vk.QueueFamilyIgnored,
		Image:               img,
		SubresourceRange: vk.ImageSubresourceRange{
			AspectMask: vk.ImageAspectFlags(vk.ImageAspectColorBit),
			LevelCount: 1,
			LayerCount: 1,
		},
	}})
}

// imageRegion is the whole w x h colour image, tightly packed in a buffer
// at offset off.
func imageRegion(off uint64, w, h int) []vk.BufferImageCopy {
	return []vk.BufferImageCopy{{
		BufferOffset:     vk.DeviceSize(off),
		ImageSubresource: vk.ImageSubresourceLayers{AspectMask: vk.ImageAspectFlags(vk.ImageAspectColorBit), LayerCount: 1},
		ImageExtent:      vk.Extent3D{Width: uint32(w), Height: uint32(h), Depth: 1},
	}}
}

// recordShow records copying frame into img (whose old contents are
// discarded), then, when readback is not nil, img back into readback, and
// leaves img in layout final.
func recordShow(cmd vk.CommandBuffer, frame, readback *Tensor, img vk.Image, w, h int, final vk.ImageLayout) {
	// Earlier compute and host writes to the frame become visible to the copy.
	fullBarrier(cmd)
	imageBarrier(cmd, img, vk.ImageLayoutUndefined, vk.ImageLayoutTransferDstOptimal,
		vk.PipelineStageTopOfPipeBit, vk.PipelineStageTransferBit, 0, vk.AccessTransferWriteBit)
	vk.CmdCopyBufferToImage(cmd, frame.buf, img, vk.ImageLayoutTransferDstOptimal, 1, imageRegion(frame.off, w, h))
	layout := vk.ImageLayoutTransferDstOptimal
	if readback != nil {
		imageBarrier(cmd, img, layout, vk.ImageLayoutTransferSrcOptimal,
			vk.PipelineStageTransferBit, vk.PipelineStageTransferBit, vk.AccessTransferWriteBit, vk.AccessTransferReadBit)
		vk.CmdCopyImageToBuffer(cmd, img, vk.ImageLayoutTransferSrcOptimal, readback.buf, 1, imageRegion(readback.off, w, h))
		layout = vk.ImageLayoutTransferSrcOptimal
	}
	if final != layout {
		imageBarrier(cmd, img, layout, final,
			vk.PipelineStageTransferBit, vk.PipelineStageBottomOfPipeBit, vk.AccessTransferWriteBit|vk.AccessTransferReadBit, 0)
	}
	// The readback becomes visible to the host and to later commands.
	fullBarrier(cmd)
}

// submitPresentWork submits cmd waiting on wait (at the transfer stage) and
// signalling signal, then waits for it with the device's fence.
func (d *Device) submitPresentWork(cmd vk.CommandBuffer, wait, signal vk.Semaphore) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	info := vk.SubmitInfo{
		SType:              vk.StructureTypeSubmitInfo,
		CommandBufferCount: 1,
		PCommandBuffers:    []vk.CommandBuffer{cmd},
	}
	if wait != vk.NullSemaphore {
		info.WaitSemaphoreCount = 1
		info.PWaitSemaphores = []vk.Semaphore{wait}
		info.PWaitDstStageMask = []vk.PipelineStageFlags{vk.PipelineStageFlags(vk.PipelineStageTransferBit)}
	}
	if signal != vk.NullSemaphore {
		info.SignalSemaphoreCount = 1
		info.PSignalSemaphores = []vk.Semaphore{signal}
	}
	if err := check(vk.QueueSubmit(d.queue, 1, []vk.SubmitInfo{info}, d.fence), "vkQueueSubmit (present copy)"); err != nil {
		return err
	}
	if err := check(vk.WaitForFences(d.handle, 1, []vk.Fence{d.fence}, vk.True, ^uint64(0)), "vkWaitForFences"); err != nil {
		return err
	}
	return check(vk.ResetFences(d.handle, 1, []vk.Fence{d.fence}), "vkResetFences")
}

// recordOnce allocates a one-time command buffer and records fn into it.
func (d *Device) recordOnce(fn func(cmd vk.CommandBuffer)) (vk.CommandBuffer, error) {
	cmd, err := d.allocCommandBuffer()
	if err != nil {
		return nil, err
	}
	if err := check(vk.BeginCommandBuffer(cmd, &vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo,
		Flags: vk.CommandBufferUsageFlags(vk.CommandBufferUsageOneTimeSubmitBit),
	}), "vkBeginCommandBuffer"); err != nil {
		vk.FreeCommandBuffers(d.handle, d.cmdPool, 1, []vk.CommandBuffer{cmd})
		return nil, err
	}
	fn(cmd)
	if err := check(vk.EndCommandBuffer(cmd), "vkEndCommandBuffer"); err != nil {
		vk.FreeCommandBuffers(d.handle, d.cmdPool, 1, []vk.CommandBuffer{cmd})
		return nil, err
	}
	return cmd, nil
}
