package engine

import (
	"errors"
	"fmt"
	"strings"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// Window is what the engine needs of a native window to present into it. A
// windowing library implements it (viz wraps a GLFW window); the engine
// keeps every Vulkan object itself.
type Window interface {
	// InstanceExtensions lists the instance extensions a surface for this
	// window needs (VK_KHR_surface and the platform's, e.g.
	// VK_KHR_xcb_surface).
	InstanceExtensions() []string
	// CreateSurface creates the window's VkSurfaceKHR on instance (a
	// VkInstance) and returns the new handle (glfwCreateWindowSurface).
	CreateSurface(instance unsafe.Pointer) (surface uint64, err error)
	// FramebufferSize is the drawable size in pixels.
	FramebufferSize() (width, height int)
}

// ErrSurfaceChanged is returned by Swapchain.Show when the window changed
// size (or the surface otherwise no longer matches the swapchain): call
// Swapchain.Resize and draw the frame again at the new size.
var ErrSurfaceChanged = errors.New("engine: window surface changed: resize the swapchain")

// ErrWindowMinimized is returned when the window has no drawable area (it is
// minimized): wait for a resize event and try again.
var ErrWindowMinimized = errors.New("engine: window has no drawable area (minimized)")

const swapchainExtension = "VK_KHR_swapchain"

// OpenWindow opens the chosen device (as Open does) on an instance that can
// draw into win, with a queue that both computes and presents to it, and
// creates a swapchain of the window's size. Close the swapchain before the
// device.
func OpenWindow(opts Options, win Window) (d *Device, sc *Swapchain, err error) {
	withoutGC(func() { d, sc, err = openWindow(opts, win) })
	return d, sc, err
}

func openWindow(opts Options, win Window) (*Device, *Swapchain, error) {
	exts := win.InstanceExtensions()
	if len(exts) == 0 {
		return nil, nil, fmt.Errorf("engine: the window system offers no Vulkan surface extensions: use --headless")
	}
	validate := opts.Validate || validateFromEnv()
	// The window's instance is its own and dies with the device: Mesa's
	// X11 WSI caches per-connection state (the XFIXES version handshake
	// among it) in the instance, keyed by the xcb connection's address, and
	// a later window's new connection at a reused address would find a
	// stale entry (BadRequest from XFixesCreateRegion, which ends the
	// process through Xlib's error handler).
	in, err := newInstance(validate, exts...)
	if err != nil {
		return nil, nil, fmt.Errorf("%w (with the window's extensions %s)", err, strings.Join(exts, ", "))
	}
	var surface vk.Surface
	d, err := openOn(in, opts, func(d *Device) error {
		raw, err := win.CreateSurface(unsafe.Pointer(in.handle))
		if err != nil {
			return fmt.Errorf("engine: creating the window surface: %v", err)
		}
		if raw == 0 {
			return fmt.Errorf("engine: the window system returned no surface")
		}
		// A non-dispatchable handle: 64 bits, a pointer type in vulkan-go.
		surface = *(*vk.Surface)(unsafe.Pointer(&raw))
		return d.preparePresent(surface)
	})
	if err != nil {
		if surface != vk.NullSurface {
			vk.DestroySurface(in.handle, surface, nil)
		}
		err = withMessages(err, in.log.takeUnclaimed())
		in.destroy()
		return nil, nil, err
	}
	d.ownsInstance = true
	sc := &Swapchain{dev: d, win: win, surface: surface}
	if err := sc.create(); err != nil && !errors.Is(err, ErrWindowMinimized) {
		sc.Close()
		d.Close()
		return nil, nil, err
	}
	return d, sc, nil
}

// preparePresent picks a queue family that computes and presents to surface
// (the compute family when it can) and asks for the swapchain extension.
func (d *Device) preparePresent(surface vk.Surface) error {
	info := &d.Info
	pd := info.handle
	if !deviceHasExtension(pd, swapchainExtension) {
		return fmt.Errorf("engine: %s lacks %s and cannot show a window: use --headless", info.Name, swapchainExtension)
	}
	var n uint32
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &n, nil)
	qfs := make([]vk.QueueFamilyProperties, n)
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &n, qfs)
	presents := func(qf int) bool {
		var ok vk.Bool32
		return vk.GetPhysicalDeviceSurfaceSupport(pd, uint32(qf), surface, &ok) == vk.Success && ok == vk.True
	}
	pick := -1
	if info.computeQF >= 0 && presents(info.computeQF) {
		pick = info.computeQF
	}
	for i := range qfs {
		if pick >= 0 {
			break
		}
		qfs[i].Deref()
		if qfs[i].QueueFlags&vk.QueueFlags(vk.QueueComputeBit) != 0 && presents(i) {
			pick = i
		}
	}
	if pick < 0 {
		return fmt.Errorf("engine: no queue of %s both computes and presents to this window: pick another device (--device) or use --headless", info.Name)
	}
	if pick != info.computeQF {
		qfs[pick].Deref()
		info.computeQF = pick
		info.TimestampsOnCompute = qfs[pick].TimestampValidBits > 0
		info.TimestampValidBits = qfs[pick].TimestampValidBits
	}
	d.extensions = append(d.extensions, swapchainExtension)
	return nil
}

// deviceHasExtension reports whether physical device pd offers extension name.
func deviceHasExtension(pd vk.PhysicalDevice, name string) bool {
	var n uint32
	var noLayer string // the zero string passes a NULL layer name
	if vk.EnumerateDeviceExtensionProperties(pd, noLayer, &n, nil) != vk.Success || n == 0 {
		return false
	}
	props := make([]vk.ExtensionProperties, n)
	if vk.EnumerateDeviceExtensionProperties(pd, noLayer, &n, props) != vk.Success {
		return false
	}
	for i := range props[:n] {
		props[i].Deref()
		if vk.ToString(props[i].ExtensionName[:]) == name {
			return true
		}
	}
	return false
}
