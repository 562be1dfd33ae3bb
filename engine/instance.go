package engine

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

const validationLayer = "VK_LAYER_KHRONOS_validation"

var loaderOnce struct {
	sync.Once
	err error
}

// initLoader loads libvulkan once per process.
func initLoader() error {
	loaderOnce.Do(func() {
		if err := vk.SetDefaultGetInstanceProcAddr(); err != nil {
			loaderOnce.err = fmt.Errorf("engine: %w: cannot load the Vulkan loader (libvulkan.so.1): %v; install it with `make deps` (Debian: libvulkan1 mesa-vulkan-drivers)", ErrNoDevice, err)
			return
		}
		if err := vk.Init(); err != nil {
			loaderOnce.err = fmt.Errorf("engine: vulkan init: %v", err)
		}
	})
	return loaderOnce.err
}

// instance is a VkInstance plus, with validation on, the debug callback that
// collects messages.
type instance struct {
	handle   vk.Instance
	callback vk.DebugReportCallback
	log      *validationLog
}

// validationLog routes the validation messages of one instance to the
// devices open on it. The layer reports a message from inside the Vulkan
// call that caused it, so each message goes to every device open on the
// instance at that moment (one, unless a caller keeps several open at
// once); a message reported while no device is open is kept as unclaimed.
type validationLog struct {
	mu        sync.Mutex
	open      []*Device
	unclaimed []string
}

func (l *validationLog) add(m string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.open) == 0 {
		l.unclaimed = append(l.unclaimed, m)
		return
	}
	for _, d := range l.open {
		d.validation = append(d.validation, m)
	}
}

// attach starts collecting messages for d.
func (l *validationLog) attach(d *Device) {
	l.mu.Lock()
	l.open = append(l.open, d)
	l.mu.Unlock()
}

// detach stops collecting messages for d; those already collected stay
// with d.
func (l *validationLog) detach(d *Device) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, o := range l.open {
		if o == d {
			l.open = append(l.open[:i], l.open[i+1:]...)
			return
		}
	}
}

// take returns and clears d's messages that match (all when match is nil).
func (l *validationLog) take(d *Device, match func(string) bool) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var taken, kept []string
	for _, m := range d.validation {
		if match == nil || match(m) {
			taken = append(taken, m)
		} else {
			kept = append(kept, m)
		}
	}
	d.validation = kept
	return taken
}

// takeUnclaimed returns and clears the messages reported while no device
// was open.
func (l *validationLog) takeUnclaimed() []string {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.unclaimed
	l.unclaimed = nil
	return out
}

func layerAvailable(name string) bool {
	var n uint32
	if vk.EnumerateInstanceLayerProperties(&n, nil) != vk.Success || n == 0 {
		return false
	}
	props := make([]vk.LayerProperties, n)
	if vk.EnumerateInstanceLayerProperties(&n, props) != vk.Success {
		return false
	}
	for i := range props {
		props[i].Deref()
		if vk.ToString(props[i].LayerName[:]) == name {
			return true
		}
	}
	return false
}

var shared struct {
	sync.Mutex
	instances map[bool]*instance
}

// sharedInstance returns the process's instance (one with validation, one
// without), creating it on first use. Instances live until the process
// ends: the validation layer (1.3.239) applies synchronization validation
// only to the first validated instance a process creates, so one is kept
// and reused by every Device.
func sharedInstance(validate bool) (*instance, error) {
	shared.Lock()
	defer shared.Unlock()
	if in, ok := shared.instances[validate]; ok {
		return in, nil
	}
	in, err := newInstance(validate)
	if err != nil {
		return nil, err
	}
	if shared.instances == nil {
		shared.instances = map[bool]*instance{}
	}
	shared.instances[validate] = in
	return in, nil
}

// newInstance creates a Vulkan 1.1 instance, with the validation layer and
// synchronization validation when validate is true, and the extra instance
// extensions asked for (a window's surface extensions).
func newInstance(validate bool, extra ...string) (in *instance, err error) {
	withoutGC(func() { in, err = newInstanceNow(validate, extra...) })
	return in, err
}

func newInstanceNow(validate bool, extra ...string) (*instance, error) {
	if err := initLoader(); err != nil {
		return nil, err
	}
	if err := checkDriverFiles(); err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	app := &vk.ApplicationInfo{
		SType:              vk.StructureTypeApplicationInfo,
		PApplicationName:   cstr("effv2vk"),
		ApplicationVersion: vk.MakeVersion(0, 1, 0),
		PEngineName:        cstr("effv2vk"),
		EngineVersion:      vk.MakeVersion(0, 1, 0),
		ApiVersion:         vk.MakeVersion(1, 1, 0),
	}
	info := &vk.InstanceCreateInfo{
		SType:            vk.StructureTypeInstanceCreateInfo,
		PApplicationInfo: app,
	}
	var feats unsafe.Pointer
	if validate {
		if !layerAvailable(validationLayer) {
			return nil, fmt.Errorf("engine: %w: validation requested (EFFV2VK_VALIDATE=1) but %s is not found: run `make deps` (Debian package vulkan-validationlayers), or check $VK_LAYER_PATH", ErrValidationLayerMissing, validationLayer)
		}
		info.EnabledLayerCount = 1
		info.PpEnabledLayerNames = []string{cstr(validationLayer)}
		info.EnabledExtensionCount = 1
		info.PpEnabledExtensionNames = []string{cstr("VK_EXT_debug_report")}
		// The layer reads its settings from the environment when the
		// instance is created; the pNext chain below says the same for
		// layers that honour it.
		enableSyncValidationEnv()
		feats = validationFeatures()
		defer freeValidationFeatures(feats)
		info.PNext = feats
	}
	for _, e := range extra {
		info.PpEnabledExtensionNames = append(info.PpEnabledExtensionNames, cstr(e))
	}
	info.EnabledExtensionCount = uint32(len(info.PpEnabledExtensionNames))
	var handle vk.Instance
	if ret := vk.CreateInstance(info, nil, &handle); ret != vk.Success {
		return nil, instanceError(ret, validate)
	}
	if err := vk.InitInstance(handle); err != nil {
		vk.DestroyInstance(handle, nil)
		return nil, fmt.Errorf("engine: init instance: %v", err)
	}
	in := &instance{handle: handle}
	if validate {
		in.log = &validationLog{}
		log := in.log
		cbInfo := &vk.DebugReportCallbackCreateInfo{
			SType: vk.StructureTypeDebugReportCallbackCreateInfo,
			Flags: vk.DebugReportFlags(vk.DebugReportErrorBit | vk.DebugReportWarningBit | vk.DebugReportPerformanceWarningBit),
			PfnCallback: func(_ vk.DebugReportFlags, _ vk.DebugReportObjectType, _ uint64, _ uint, code int32, prefix, msg string, _ unsafe.Pointer) vk.Bool32 {
				// Every message is kept, the loader's too: the callback is
				// registered after vkCreateInstance, so the loader's warning
				// about $VK_INSTANCE_LAYERS at creation never reaches it.
				log.add(fmt.Sprintf("[%s %d] %s", strings.TrimRight(prefix, "\x00"), code, strings.TrimRight(msg, "\x00")))
				return vk.False
			},
		}
		var cb vk.DebugReportCallback
		if err := check(vk.CreateDebugReportCallback(handle, cbInfo, nil, &cb), "vkCreateDebugReportCallbackEXT"); err != nil {
			vk.DestroyInstance(handle, nil)
			return nil, err
		}
		in.callback = cb
	}
	return in, nil
}

// destroy destroys the debug callback and the instance. Only an instance
// that one device owns (a window's) is ever destroyed; the shared ones live
// until the process ends.
func (in *instance) destroy() {
	if in.callback != vk.NullDebugReportCallback {
		vk.DestroyDebugReportCallback(in.handle, in.callback, nil)
	}
	vk.DestroyInstance(in.handle, nil)
}

// validateFromEnv reports whether $EFFV2VK_VALIDATE asks for validation.
func validateFromEnv() bool {
	v := strings.ToLower(os.Getenv("EFFV2VK_VALIDATE"))
	return v == "1" || v == "true" || v == "yes" || v == "on"
}

const syncValidation = "VK_VALIDATION_FEATURE_ENABLE_SYNCHRONIZATION_VALIDATION_EXT"

// enableSyncValidationEnv adds synchronization validation to
// $VK_LAYER_ENABLES (os.Setenv reaches the C environment the layer reads).
func enableSyncValidationEnv() {
	cur := os.Getenv("VK_LAYER_ENABLES")
	if strings.Contains(cur, syncValidation) {
		return
	}
	if cur != "" {
		cur += ","
	}
	os.Setenv("VK_LAYER_ENABLES", cur+syncValidation)
}

// instanceError explains a failed vkCreateInstance: without a driver the
// loader answers VK_ERROR_INCOMPATIBLE_DRIVER, which is "no device" unless
// the environment named a driver (then that driver is broken).
func instanceError(ret vk.Result, validate bool) error {
	err := check(ret, "vkCreateInstance")
	if validate {
		err = fmt.Errorf("%w (with the validation layer)", err)
	}
	if ret != vk.ErrorIncompatibleDriver {
		return err
	}
	if env := driverFilesEnv(); env != "" {
		return fmt.Errorf("%w: %w: the driver named by %s cannot create an instance", err, ErrDriverFiles, env)
	}
	return fmt.Errorf("%w: %w: is a Vulkan driver installed? (`make deps` installs lavapipe, a CPU Vulkan driver)", err, ErrNoDevice)
}
