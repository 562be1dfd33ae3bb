package engine

import (
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// Offscreen is an image that frames are shown into without a window (for
// screenshots in docs and CI): the same copy a Swapchain makes, into an
// 8-bit BGRA image of the device's own.
type Offscreen struct {
	dev    *Device
	image  vk.Image
	mem    vk.DeviceMemory
	width  int
	height int
}

// NewOffscreen creates a width x height offscreen image.
func (d *Device) NewOffscreen(width, height int) (o *Offscreen, err error) {
	withoutGC(func() { o, err = d.newOffscreen(width, height) })
	return o, err
}

func (d *Device) newOffscreen(width, height int) (*Offscreen, error) {
	if width <= 0 || height <= 0 || width > 16384 || height > 16384 {
		return nil, fmt.Errorf("engine: offscreen size %dx%d is outside 1..16384", width, height)
	}
	o := &Offscreen{dev: d, width: width, height: height}
	var img vk.Image
	if err := check(vk.CreateImage(d.handle, &vk.ImageCreateInfo{
		SType:         vk.StructureTypeImageCreateInfo,
		ImageType:     vk.ImageType2d,
		Format:        vk.FormatB8g8r8a8Unorm,
		Extent:        vk.Extent3D{Width: uint32(width), Height: uint32(height), Depth: 1},
		MipLevels:     1,
		ArrayLayers:   1,
		Samples:       vk.SampleCount1Bit,
		Tiling:        vk.ImageTilingOptimal,
		Usage:         vk.ImageUsageFlags(vk.ImageUsageTransferSrcBit | vk.ImageUsageTransferDstBit),
		SharingMode:   vk.SharingModeExclusive,
		InitialLayout: vk.ImageLayoutUndefined,
	}, nil, &img), "vkCreateImage offscreen"); err != nil {
		return nil, err
	}
	o.image = img
	var req vk.MemoryRequirements
	vk.GetImageMemoryRequirements(d.handle, img, &req)
	req.Deref()
	memType := -1
	for _, t := range []uint32{d.memTypeMain, d.memTypeHost} {
		if req.MemoryTypeBits&(1<<t) != 0 {
			memType = int(t)
			break
		}
	}
	for i := 0; memType < 0 && i < 32; i++ {
		if req.MemoryTypeBits&(1<<uint(i)) != 0 {
			memType = i
		}
	}
	if memType < 0 {
		o.Close()
		return nil, fmt.Errorf("engine: no memory type of %s can hold an offscreen image", d.Info.Name)
	}
	var mem vk.DeviceMemory
	if err := check(vk.AllocateMemory(d.handle, &vk.MemoryAllocateInfo{
		SType:           vk.StructureTypeMemoryAllocateInfo,
		AllocationSize:  req.Size,
		MemoryTypeIndex: uint32(memType),
	}, nil, &mem), "vkAllocateMemory offscreen"); err != nil {
		o.Close()
		return nil, err
	}
	o.mem = mem
	if err := check(vk.BindImageMemory(d.handle, img, mem, 0), "vkBindImageMemory offscreen"); err != nil {
		o.Close()
		return nil, err
	}
	return o, nil
}

// Size is the image's size in pixels.
func (o *Offscreen) Size() (width, height int) { return o.width, o.height }

// BGRA reports the pixel byte order: always B, G, R, A.
func (o *Offscreen) BGRA() bool { return true }

// Show copies frame (Width x Height uint32 pixels) into the image and, when
// readback is not nil, the image back into readback.
func (o *Offscreen) Show(frame, readback *Tensor) (err error) {
	withoutGC(func() { err = o.show(frame, readback) })
	return err
}

func (o *Offscreen) show(frame, readback *Tensor) error {
	if err := checkFrame(frame, readback, o.width, o.height); err != nil {
		return err
	}
	d := o.dev
	cmd, err := d.recordOnce(func(cmd vk.CommandBuffer) {
		recordShow(cmd, frame, readback, o.image, o.width, o.height, vk.ImageLayoutTransferSrcOptimal)
	})
	if err != nil {
		return err
	}
	defer vk.FreeCommandBuffers(d.handle, d.cmdPool, 1, []vk.CommandBuffer{cmd})
	return d.submitPresentWork(cmd, vk.NullSemaphore, vk.NullSemaphore)
}

// Close frees the image. Call it before closing the device.
func (o *Offscreen) Close() {
	if o == nil || o.dev == nil {
		return
	}
	h := o.dev.handle
	vk.DeviceWaitIdle(h)
	if o.image != vk.NullImage {
		vk.DestroyImage(h, o.image, nil)
	}
	if o.mem != vk.NullDeviceMemory {
		vk.FreeMemory(h, o.mem, nil)
	}
	o.dev = nil
}
