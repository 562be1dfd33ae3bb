package engine

import (
	"fmt"
	"os"
	"sync"

	vk "github.com/vulkan-go/vulkan"
)

// Options configure Open.
type Options struct {
	// Select picks the device: "" (default choice), an index, or a name
	// substring. When empty, $EFFV2VK_DEVICE is used.
	Select string
	// Validate enables the Khronos validation layer with synchronization
	// validation; $EFFV2VK_VALIDATE=1 also enables it.
	Validate bool
	// PipelineCacheDir holds the persistent pipeline cache; "" means the
	// user cache dir (e.g. ~/.cache/effv2vk), "-" disables it.
	PipelineCacheDir string
}

// Device is an opened Vulkan device with one compute queue.
type Device struct {
	Info DeviceInfo

	inst         *instance
	ownsInstance bool // a window's instance, destroyed by Close
	handle       vk.Device
	queue        vk.Queue
	cmdPool      vk.CommandPool
	fence        vk.Fence
	cache        *pipelineCache
	memTypeMain  uint32            // tensors: device-local, on the largest device-local heap
	mainMapped   bool              // tensors are host-mapped (see place)
	memTypeHost  uint32            // host-visible and coherent, for uploads
	memTypeSmall int               // device-local and host-visible, for small tensors (-1: none; see newTensor)
	smallInUse   uint64            // bytes of small tensors in memTypeSmall
	arenas       map[uint32]*arena // by memory type, with mappedArena set for a mapped one
	switches     switches
	// maxAllocation is maxMemoryAllocationSize (0: not reported).
	maxAllocation uint64
	// budgetExt says VK_EXT_memory_budget is enabled: heaps are limited by
	// their budget rather than their size.
	budgetExt     bool
	stagingMu     sync.Mutex
	uploadStaging stagingBuffer
	readback      stagingBuffer
	extensions    []string // device extensions to enable (VK_KHR_swapchain for a window)

	mu      sync.Mutex
	kernels map[string]*Kernel
	plan    *planState // set while Plan runs
	closed  bool

	validation []string // this device's validation messages, guarded by inst.log.mu
}

// Open creates the instance and opens the chosen device.
func Open(opts Options) (*Device, error) {
	validate := opts.Validate || validateFromEnv()
	in, err := sharedInstance(validate)
	if err != nil {
		return nil, err
	}
	return openOn(in, opts, nil)
}

// openOn opens the chosen device of instance in. prepare, when not nil, runs
// before the logical device is created (a window picks a queue family that
// can present and asks for device extensions there).
func openOn(in *instance, opts Options, prepare func(d *Device) error) (*Device, error) {
	d := &Device{inst: in, arenas: map[uint32]*arena{}, kernels: map[string]*Kernel{}}
	if in.log != nil {
		in.log.attach(d)
	}
	if err := d.openNow(opts, prepare); err != nil {
		d.Close()
		return nil, withMessages(err, d.ValidationMessages())
	}
	return d, nil
}

// openNow picks the physical device and creates the logical one.
func (d *Device) openNow(opts Options, prepare func(d *Device) error) error {
	devs, err := enumerate(d.inst.handle)
	if err != nil {
		return err
	}
	if len(devs) == 0 {
		if err := checkDriverFiles(); err != nil {
			return err
		}
		if files := driverFilesEnv(); files != "" {
			return fmt.Errorf("%w: the driver named by %s offers no device", ErrDriverFiles, files)
		}
	}
	sel := opts.Select
	if sel == "" {
		sel = os.Getenv("EFFV2VK_DEVICE")
	}
	pick, err := SelectDevice(devs, sel)
	if err != nil {
		return err
	}
	d.Info = devs[pick]
	sw, err := switchesFromEnv()
	if err != nil {
		return err
	}
	d.switches = sw
	if err := sw.apply(&d.Info); err != nil {
		return err
	}
	d.maxAllocation = queryMaxAllocation(d.Info.handle, d.Info.apiVersion)
	if deviceHasExtension(d.Info.handle, memoryBudgetExtension) {
		d.budgetExt = true
		d.extensions = append(d.extensions, memoryBudgetExtension)
	}
	if prepare != nil {
		if err := prepare(d); err != nil {
			return err
		}
	}
	return d.create(opts)
}

// withMessages adds the validation messages reported while a device failed
// to open to err.
func withMessages(err error, msgs []string) error {
	if len(msgs) == 0 {
		return err
	}
	return fmt.Errorf("%w (the validation layer reported %d message(s), the first: %s)", err, len(msgs), msgs[0])
}

func (d *Device) create(opts Options) (err error) {
	withoutGC(func() { err = d.createNow(opts) })
	return err
}

func (d *Device) createNow(opts Options) error {
	info := &d.Info
	qinfo := []vk.DeviceQueueCreateInfo{{
		SType:            vk.StructureTypeDeviceQueueCreateInfo,
		QueueFamilyIndex: uint32(info.computeQF),
		QueueCount:       1,
		PQueuePriorities: []float32{1},
	}}
	dinfo := &vk.DeviceCreateInfo{
		SType:                vk.StructureTypeDeviceCreateInfo,
		QueueCreateInfoCount: 1,
		PQueueCreateInfos:    qinfo,
	}
	for _, e := range d.extensions {
		dinfo.PpEnabledExtensionNames = append(dinfo.PpEnabledExtensionNames, cstr(e))
	}
	if info.RequiredSubgroupSize {
		dinfo.PpEnabledExtensionNames = append(dinfo.PpEnabledExtensionNames, cstr(subgroupSizeControlExtension))
		feats := sizeControlFeatures(info.FullSubgroups)
		defer cFree(feats)
		dinfo.PNext = feats
	}
	dinfo.EnabledExtensionCount = uint32(len(dinfo.PpEnabledExtensionNames))
	if info.Int64 {
		// Kernels with 64-bit integer stores (8 floats per store) need it.
		dinfo.PEnabledFeatures = []vk.PhysicalDeviceFeatures{{ShaderInt64: vk.True}}
	}
	var dev vk.Device
	if err := check(vk.CreateDevice(info.handle, dinfo, nil, &dev), "vkCreateDevice "+info.Name); err != nil {
		return err
	}
	d.handle = dev
	var q vk.Queue
	vk.GetDeviceQueue(dev, uint32(info.computeQF), 0, &q)
	d.queue = q

	var pool vk.CommandPool
	if err := check(vk.CreateCommandPool(dev, &vk.CommandPoolCreateInfo{
		SType:            vk.StructureTypeCommandPoolCreateInfo,
		Flags:            vk.CommandPoolCreateFlags(vk.CommandPoolCreateResetCommandBufferBit),
		QueueFamilyIndex: uint32(info.computeQF),
	}, nil, &pool), "vkCreateCommandPool"); err != nil {
		return err
	}
	d.cmdPool = pool
	var fence vk.Fence
	if err := check(vk.CreateFence(dev, &vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo}, nil, &fence), "vkCreateFence"); err != nil {
		return err
	}
	d.fence = fence
	if err := d.chooseMemoryTypes(); err != nil {
		return err
	}
	c, err := openPipelineCache(d, opts.PipelineCacheDir)
	if err != nil {
		return err
	}
	d.cache = c
	return nil
}

// chooseMemoryTypes decides where tensors and staging buffers live (see
// place).
func (d *Device) chooseMemoryTypes() error {
	p, err := place(layoutOf(&d.Info), d.Info.Type, d.switches.forceStaging)
	if err != nil {
		return fmt.Errorf("engine: %s: %w", d.Info.Name, err)
	}
	d.memTypeMain, d.mainMapped = uint32(p.tensor), p.tensorMapped
	d.memTypeHost = uint32(p.upload)
	d.memTypeSmall = p.small
	if d.switches.forceStaging && !d.switches.smallMapped {
		d.memTypeSmall = -1 // everything through staging
	}
	d.uploadStaging.memType = p.upload
	d.readback.memType = p.readback
	return nil
}

// TensorsMapped reports whether tensors are host-mapped (uploads and
// downloads are plain copies) rather than reached through staging buffers.
func (d *Device) TensorsMapped() bool { return d.mainMapped }

// ValidationMessages returns and clears the validation messages reported
// while this device was open (from Open to the end of Close); always empty
// when validation is off.
func (d *Device) ValidationMessages() []string {
	return d.TakeValidationMessages(nil)
}

// TakeValidationMessages returns and clears the validation messages for
// which match reports true (all of them when match is nil), leaving the
// others for the next call.
func (d *Device) TakeValidationMessages(match func(msg string) bool) []string {
	if d.inst == nil || d.inst.log == nil {
		return nil
	}
	return d.inst.log.take(d, match)
}

// UnclaimedValidationMessages returns and clears the validation messages
// reported while no validated device was open (so that none can be charged
// to a device); empty when validation never ran in this process.
func UnclaimedValidationMessages() []string {
	shared.Lock()
	in := shared.instances[true]
	shared.Unlock()
	if in == nil || in.log == nil {
		return nil
	}
	return in.log.takeUnclaimed()
}

// Validating reports whether the validation layer is on.
func (d *Device) Validating() bool { return d.inst != nil && d.inst.log != nil }

// Close waits for the device to go idle and destroys everything it created,
// in reverse order. Tensors and sequences still alive are freed with it.
func (d *Device) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	var firstErr error
	if d.handle != nil {
		vk.DeviceWaitIdle(d.handle)
		for _, k := range d.kernels {
			k.destroy()
		}
		if d.cache != nil {
			if err := d.cache.saveAndDestroy(); err != nil && firstErr == nil {
				firstErr = err
			}
		}
		d.uploadStaging.destroy(d)
		d.readback.destroy(d)
		for _, a := range d.arenas {
			a.destroy()
		}
		if d.fence != vk.NullFence {
			vk.DestroyFence(d.handle, d.fence, nil)
		}
		if d.cmdPool != vk.NullCommandPool {
			vk.DestroyCommandPool(d.handle, d.cmdPool, nil)
		}
		vk.DestroyDevice(d.handle, nil)
	}
	if d.inst != nil && d.inst.log != nil {
		d.inst.log.detach(d)
	}
	if d.ownsInstance {
		d.inst.destroy()
	}
	return firstErr
}

// OffsetAlignment is the byte alignment of every offset the engine and its
// users lay tensors out at, and that a Tensor.Slice offset must meet: the
// larger of the device's storage and texel buffer offset alignments, and at
// least 16 bytes, so that an RGBA32F texel view of any slice starts on a
// whole texel (a device reporting 4, as AMD does, still gets 16).
func (d *Device) OffsetAlignment() int {
	return int(max(deviceOffsetAlignment(&d.Info), minTexelAlignment))
}
