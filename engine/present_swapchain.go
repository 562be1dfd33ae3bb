package engine

import (
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// acquireTimeoutNs bounds the wait for a swapchain image.
const acquireTimeoutNs = 5_000_000_000

// Swapchain presents frames drawn by compute kernels into a window. Frames
// are uint32 tensors of Width x Height packed 8-bit pixels in the byte order
// BGRA reports; Show copies one into the next swapchain image.
type Swapchain struct {
	dev     *Device
	win     Window
	surface vk.Surface
	handle  vk.Swapchain
	images  []vk.Image
	format  vk.Format
	width   int
	height  int
	canRead bool // images can be copied from (readback)

	acquired vk.Semaphore   // signalled when the acquired image is ready
	rendered []vk.Semaphore // per image: signalled when its copy is done
}

// Size is the swapchain's size in pixels (0 x 0 while the window is
// minimized).
func (s *Swapchain) Size() (width, height int) { return s.width, s.height }

// BGRA reports whether pixels are stored B, G, R, A in memory (the uint32
// 0xAARRGGBB); otherwise they are R, G, B, A.
func (s *Swapchain) BGRA() bool { return s.format == vk.FormatB8g8r8a8Unorm }

// chooseSurfaceFormat prefers 8-bit UNORM BGRA, then RGBA: pixel values then
// reach the screen unchanged.
func chooseSurfaceFormat(formats []vk.SurfaceFormat) (vk.SurfaceFormat, error) {
	for _, want := range []vk.Format{vk.FormatB8g8r8a8Unorm, vk.FormatR8g8b8a8Unorm} {
		for _, f := range formats {
			if f.Format == want && f.ColorSpace == vk.ColorSpaceSrgbNonlinear {
				return f, nil
			}
		}
	}
	if len(formats) == 1 && formats[0].Format == vk.FormatUndefined {
		return vk.SurfaceFormat{Format: vk.FormatB8g8r8a8Unorm, ColorSpace: vk.ColorSpaceSrgbNonlinear}, nil
	}
	var seen []int32
	for _, f := range formats {
		seen = append(seen, int32(f.Format))
	}
	return vk.SurfaceFormat{}, fmt.Errorf("engine: the window offers no 8-bit BGRA/RGBA UNORM format (VkFormats %v); with Xvfb use a 24-bit screen (-screen 0 1280x800x24)", seen)
}

// create builds the swapchain at the window's current size, replacing the
// old one when there is one.
func (s *Swapchain) create() (err error) {
	withoutGC(func() { err = s.createNow() })
	return err
}

func (s *Swapchain) createNow() error {
	d := s.dev
	pd := d.Info.handle
	var caps vk.SurfaceCapabilities
	if err := check(vk.GetPhysicalDeviceSurfaceCapabilities(pd, s.surface, &caps), "vkGetPhysicalDeviceSurfaceCapabilitiesKHR"); err != nil {
		return err
	}
	caps.Deref()
	caps.CurrentExtent.Deref()
	caps.MinImageExtent.Deref()
	caps.MaxImageExtent.Deref()
	w, h := int(caps.CurrentExtent.Width), int(caps.CurrentExtent.Height)
	if caps.CurrentExtent.Width == ^uint32(0) {
		w, h = s.win.FramebufferSize()
		w = clampInt(w, int(caps.MinImageExtent.Width), int(caps.MaxImageExtent.Width))
		h = clampInt(h, int(caps.MinImageExtent.Height), int(caps.MaxImageExtent.Height))
	}
	if w <= 0 || h <= 0 {
		s.width, s.height = 0, 0
		return ErrWindowMinimized
	}
	usage := vk.ImageUsageFlags(vk.ImageUsageTransferDstBit)
	if caps.SupportedUsageFlags&usage == 0 {
		return fmt.Errorf("engine: swapchain images of %s cannot be copied into (no TRANSFER_DST usage)", d.Info.Name)
	}
	s.canRead = caps.SupportedUsageFlags&vk.ImageUsageFlags(vk.ImageUsageTransferSrcBit) != 0
	if s.canRead {
		usage |= vk.ImageUsageFlags(vk.ImageUsageTransferSrcBit)
	}
	var n uint32
	if err := check(vk.GetPhysicalDeviceSurfaceFormats(pd, s.surface, &n, nil), "vkGetPhysicalDeviceSurfaceFormatsKHR"); err != nil {
		return err
	}
	formats := make([]vk.SurfaceFormat, n)
	if err := check(vk.GetPhysicalDeviceSurfaceFormats(pd, s.surface, &n, formats), "vkGetPhysicalDeviceSurfaceFormatsKHR"); err != nil {
		return err
	}
	for i := range formats {
		formats[i].Deref()
	}
	format, err := chooseSurfaceFormat(formats[:n])
	if err != nil {
		return err
	}
	images := caps.MinImageCount + 1
	if caps.MaxImageCount > 0 && images > caps.MaxImageCount {
		images = caps.MaxImageCount
	}
	alpha := vk.CompositeAlphaOpaqueBit
	if caps.SupportedCompositeAlpha&vk.CompositeAlphaFlags(alpha) == 0 {
		for bit := vk.CompositeAlphaFlagBits(1); bit <= vk.CompositeAlphaInheritBit; bit <<= 1 {
			if caps.SupportedCompositeAlpha&vk.CompositeAlphaFlags(bit) != 0 {
				alpha = bit
				break
			}
		}
	}
	old := s.handle
	var sc vk.Swapchain
	err = check(vk.CreateSwapchain(d.handle, &vk.SwapchainCreateInfo{
		SType:            vk.StructureTypeSwapchainCreateInfo,
		Surface:          s.surface,
		MinImageCount:    images,
		ImageFormat:      format.Format,
		ImageColorSpace:  format.ColorSpace,
		ImageExtent:      vk.Extent2D{Width: uint32(w), Height: uint32(h)},
		ImageArrayLayers: 1,
		ImageUsage:       usage,
		ImageSharingMode: vk.SharingModeExclusive,
		PreTransform:     caps.CurrentTransform,
		CompositeAlpha:   alpha,
		PresentMode:      vk.PresentModeFifo, // always supported
		Clipped:          vk.True,
		OldSwapchain:     old,
	}, nil, &sc), "vkCreateSwapchainKHR")
	if old != vk.NullSwapchain {
		s.destroySwapchain(old)
		s.handle = vk.NullSwapchain
	}
	if err != nil {
		return err
	}
	s.handle, s.format, s.width, s.height = sc, format.Format, w, h
	if err := check(vk.GetSwapchainImages(d.handle, sc, &n, nil), "vkGetSwapchainImagesKHR"); err != nil {
		return err
	}
	s.images = make([]vk.Image, n)
	if err := check(vk.GetSwapchainImages(d.handle, sc, &n, s.images), "vkGetSwapchainImagesKHR"); err != nil {
		return err
	}
	return s.makeSemaphores()
}

// makeSemaphores creates the acquire semaphore and one render semaphore per
// image (a semaphore still awaited by a pending present is never reused).
func (s *Swapchain) makeSemaphores() error {
	d := s.dev
	newSem := func() (vk.Semaphore, error) {
		var sem vk.Semaphore
		err := check(vk.CreateSemaphore(d.handle, &vk.SemaphoreCreateInfo{SType: vk.StructureTypeSemaphoreCreateInfo}, nil, &sem), "vkCreateSemaphore")
		return sem, err
	}
	var err error
	if s.acquired == vk.NullSemaphore {
		if s.acquired, err = newSem(); err != nil {
			return err
		}
	}
	for len(s.rendered) < len(s.images) {
		sem, err := newSem()
		if err != nil {
			return err
		}
		s.rendered = append(s.rendered, sem)
	}
	return nil
}

// destroySwapchain waits for the device and destroys sc.
func (s *Swapchain) destroySwapchain(sc vk.Swapchain) {
	vk.DeviceWaitIdle(s.dev.handle)
	vk.DestroySwapchain(s.dev.handle, sc, nil)
}

// Resize rebuilds the swapchain at the window's current size. It returns
// ErrWindowMinimized while the window has no drawable area.
func (s *Swapchain) Resize() error { return s.create() }

// Show copies frame (Width x Height uint32 pixels) into the next swapchain
// image and presents it. When readback is not nil the presented image is
// also copied back into it, so it holds exactly what the window shows. It
// returns ErrSurfaceChanged when the window's size changed: Resize, redraw
// and show again.
func (s *Swapchain) Show(frame, readback *Tensor) (err error) {
	withoutGC(func() { err = s.show(frame, readback) })
	return err
}

func (s *Swapchain) show(frame, readback *Tensor) error {
	d := s.dev
	if s.handle == vk.NullSwapchain {
		return ErrWindowMinimized
	}
	if err := checkFrame(frame, readback, s.width, s.height); err != nil {
		return err
	}
	if readback != nil && !s.canRead {
		return fmt.Errorf("engine: the swapchain images of %s cannot be read back (no TRANSFER_SRC usage): use --headless for screenshots", d.Info.Name)
	}
	var idx uint32
	switch ret := vk.AcquireNextImage(d.handle, s.handle, acquireTimeoutNs, s.acquired, vk.NullFence, &idx); ret {
	case vk.Success, vk.Suboptimal:
	case vk.ErrorOutOfDate:
		return ErrSurfaceChanged
	case vk.Timeout, vk.NotReady:
		return fmt.Errorf("engine: no swapchain image became available within %d s", acquireTimeoutNs/1_000_000_000)
	default:
		return check(ret, "vkAcquireNextImageKHR")
	}
	cmd, err := d.recordOnce(func(cmd vk.CommandBuffer) {
		recordShow(cmd, frame, readback, s.images[idx], s.width, s.height, vk.ImageLayoutPresentSrc)
	})
	if err != nil {
		return err
	}
	defer vk.FreeCommandBuffers(d.handle, d.cmdPool, 1, []vk.CommandBuffer{cmd})
	if err := d.submitPresentWork(cmd, s.acquired, s.rendered[idx]); err != nil {
		return err
	}
	d.mu.Lock()
	ret := vk.QueuePresent(d.queue, &vk.PresentInfo{
		SType:              vk.StructureTypePresentInfo,
		WaitSemaphoreCount: 1,
		PWaitSemaphores:    []vk.Semaphore{s.rendered[idx]},
		SwapchainCount:     1,
		PSwapchains:        []vk.Swapchain{s.handle},
		PImageIndices:      []uint32{idx},
	})
	d.mu.Unlock()
	switch ret {
	case vk.Success:
		return nil
	case vk.Suboptimal, vk.ErrorOutOfDate:
		return ErrSurfaceChanged
	}
	return check(ret, "vkQueuePresentKHR")
}

// Close destroys the swapchain, its semaphores and the window's surface.
// Call it before closing the device.
func (s *Swapchain) Close() {
	if s == nil || s.dev == nil {
		return
	}
	d := s.dev
	if d.handle != nil {
		vk.DeviceWaitIdle(d.handle)
		if s.handle != vk.NullSwapchain {
			vk.DestroySwapchain(d.handle, s.handle, nil)
		}
		for _, sem := range append(s.rendered, s.acquired) {
			if sem != vk.NullSemaphore {
				vk.DestroySemaphore(d.handle, sem, nil)
			}
		}
	}
	if s.surface != vk.NullSurface {
		vk.DestroySurface(d.inst.handle, s.surface, nil)
	}
	s.dev = nil
}

func clampInt(v, lo, hi int) int {
	if v < lo {
		return lo
	}
	if hi > 0 && v > hi {
		return hi
	}
	return v
}
