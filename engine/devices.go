package engine

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	vk "github.com/vulkan-go/vulkan"
)

// DeviceType is the kind of a physical device.
type DeviceType string

// Device types, in the order the default choice prefers them.
const (
	DiscreteGPU   DeviceType = "discrete-gpu"
	IntegratedGPU DeviceType = "integrated-gpu"
	VirtualGPU    DeviceType = "virtual-gpu"
	CPU           DeviceType = "cpu"
	OtherDevice   DeviceType = "other"
)

var typeRank = map[DeviceType]int{DiscreteGPU: 0, IntegratedGPU: 1, VirtualGPU: 2, CPU: 3, OtherDevice: 4}

// MemoryHeap is one memory heap of a device.
type MemoryHeap struct {
	Size        uint64 `json:"size"`
	DeviceLocal bool   `json:"device_local"`
}

// DeviceInfo describes a physical device.
type DeviceInfo struct {
	Index         int          `json:"index"`
	Name          string       `json:"name"`
	VendorID      uint32       `json:"vendor_id"`
	Vendor        Vendor       `json:"vendor"`
	DeviceID      uint32       `json:"device_id"`
	Type          DeviceType   `json:"type"`
	APIVersion    string       `json:"api_version"`
	apiVersion    uint32       // packed
	DriverVersion uint32       `json:"driver_version"`
	Heaps         []MemoryHeap `json:"memory_heaps"`
	SubgroupSize  uint32       `json:"subgroup_size"`
	// MinSubgroupSize and MaxSubgroupSize bound the sizes a pipeline may
	// request (VK_EXT_subgroup_size_control, core in Vulkan 1.3); 0 when
	// the device does not report them.
	MinSubgroupSize uint32 `json:"min_subgroup_size,omitempty"`
	MaxSubgroupSize uint32 `json:"max_subgroup_size,omitempty"`
	// RequiredSubgroupSize says a compute pipeline may require a subgroup
	// size between MinSubgroupSize and MaxSubgroupSize, and FullSubgroups
	// that it may require full subgroups (VK_EXT_subgroup_size_control's
	// subgroupSizeControl and computeFullSubgroups, enabled on the device
	// when offered; see Device.KernelWithSubgroupSize).
	RequiredSubgroupSize   bool      `json:"required_subgroup_size,omitempty"`
	FullSubgroups          bool      `json:"full_subgroups,omitempty"`
	MaxWorkgroupSize       [3]uint32 `json:"max_workgroup_size"`
	MaxWorkgroupInvocation uint32    `json:"max_workgroup_invocations"`
	MaxWorkgroupCount      [3]uint32 `json:"max_workgroup_count"`
	MaxStorageBufferRange  uint64    `json:"max_storage_buffer_range"`
	MaxTexelBufferElements uint64    `json:"max_texel_buffer_elements"`
	MaxSharedMemory        uint32    `json:"max_shared_memory"`
	MaxPushConstantsSize   uint32    `json:"max_push_constants_size"`
	Float16                bool      `json:"float16"`
	Int8                   bool      `json:"int8"`
	Float64                bool      `json:"float64"`
	Int64                  bool      `json:"int64"` // shaderInt64, enabled on the device when offered
	TimestampPeriod        float32   `json:"timestamp_period_ns"`
	TimestampsOnCompute    bool      `json:"timestamps_on_compute"`
	TimestampValidBits     uint32    `json:"timestamp_valid_bits"`
	Supported              bool      `json:"supported"`
	Unsupported            string    `json:"unsupported_reason,omitempty"`

	handle      vk.PhysicalDevice
	limits      vk.PhysicalDeviceLimits
	computeQF   int
	pipeUUID    [vk.UuidSize]byte
	extra       extraFeatures
	memoryProps vk.PhysicalDeviceMemoryProperties
	heapLimit   uint64 // EFFV2VK_DEVICE_MEMORY: tensor heap capped at this many bytes (0: none)
}

func versionString(v uint32) string {
	return fmt.Sprintf("%d.%d.%d", v>>22, (v>>12)&0x3ff, v&0xfff)
}

func describe(index int, pd vk.PhysicalDevice) DeviceInfo {
	var props vk.PhysicalDeviceProperties
	vk.GetPhysicalDeviceProperties(pd, &props)
	props.Deref()
	props.Limits.Deref()
	var mem vk.PhysicalDeviceMemoryProperties
	vk.GetPhysicalDeviceMemoryProperties(pd, &mem)
	mem.Deref()
	var feats vk.PhysicalDeviceFeatures
	vk.GetPhysicalDeviceFeatures(pd, &feats)
	feats.Deref()

	d := DeviceInfo{
		Index:      index,
		Name:       vk.ToString(props.DeviceName[:]),
		VendorID:   props.VendorID,
		Vendor:     VendorOf(props.VendorID),
		DeviceID:   props.DeviceID,
		APIVersion: versionString(props.ApiVersion),
		apiVersion: props.ApiVersion,

		DriverVersion:          props.DriverVersion,
		MaxWorkgroupSize:       props.Limits.MaxComputeWorkGroupSize,
		MaxWorkgroupInvocation: props.Limits.MaxComputeWorkGroupInvocations,
		MaxWorkgroupCount:      props.Limits.MaxComputeWorkGroupCount,
		MaxStorageBufferRange:  uint64(props.Limits.MaxStorageBufferRange),
		MaxTexelBufferElements: uint64(props.Limits.MaxTexelBufferElements),
		MaxSharedMemory:        props.Limits.MaxComputeSharedMemorySize,
		MaxPushConstantsSize:   props.Limits.MaxPushConstantsSize,
		TimestampPeriod:        props.Limits.TimestampPeriod,
		handle:                 pd,
		limits:                 props.Limits,
		pipeUUID:               props.PipelineCacheUUID,
		memoryProps:            mem,
		computeQF:              -1,
	}
	switch props.DeviceType {
	case vk.PhysicalDeviceTypeDiscreteGpu:
		d.Type = DiscreteGPU
	case vk.PhysicalDeviceTypeIntegratedGpu:
		d.Type = IntegratedGPU
	case vk.PhysicalDeviceTypeVirtualGpu:
		d.Type = VirtualGPU
	case vk.PhysicalDeviceTypeCpu:
		d.Type = CPU
	default:
		d.Type = OtherDevice
	}
	for i := uint32(0); i < mem.MemoryHeapCount; i++ {
		h := mem.MemoryHeaps[i]
		h.Deref()
		d.Heaps = append(d.Heaps, MemoryHeap{Size: uint64(h.Size), DeviceLocal: h.Flags&vk.MemoryHeapFlags(vk.MemoryHeapDeviceLocalBit) != 0})
	}
	var qn uint32
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &qn, nil)
	qfs := make([]vk.QueueFamilyProperties, qn)
	vk.GetPhysicalDeviceQueueFamilyProperties(pd, &qn, qfs)
	// Prefer a compute queue family with timestamps; a dedicated compute
	// family (no graphics) first, as it often runs alongside graphics work.
	best := -1
	for i := range qfs {
		qfs[i].Deref()
		if qfs[i].QueueFlags&vk.QueueFlags(vk.QueueComputeBit) == 0 {
			continue
		}
		if best < 0 || queueScore(qfs[i]) > queueScore(qfs[best]) {
			best = i
		}
	}
	d.computeQF = best
	if best >= 0 {
		d.TimestampsOnCompute = qfs[best].TimestampValidBits > 0
		d.TimestampValidBits = qfs[best].TimestampValidBits
	}
	sizeExt := deviceHasExtension(pd, subgroupSizeControlExtension)
	d.extra = queryExtraFeatures(pd, props.ApiVersion, sizeExt || props.ApiVersion >= vk.MakeVersion(1, 3, 0))
	d.SubgroupSize = d.extra.SubgroupSize
	d.MinSubgroupSize, d.MaxSubgroupSize = d.extra.MinSubgroupSize, d.extra.MaxSubgroupSize
	// The instance asks for Vulkan 1.1, so the feature is reachable only
	// through the extension, even on a Vulkan 1.3 device.
	d.RequiredSubgroupSize = sizeExt && d.extra.SizeControl && d.extra.RequiredSizeStages&computeStage != 0
	d.FullSubgroups = d.RequiredSubgroupSize && d.extra.FullSubgroups
	d.Float16 = d.extra.ShaderFloat16
	d.Int8 = d.extra.ShaderInt8
	d.Float64 = feats.ShaderFloat64 == vk.True
	d.Int64 = feats.ShaderInt64 == vk.True
	d.Supported = true
	switch {
	case props.ApiVersion < vk.MakeVersion(1, 1, 0):
		d.Supported, d.Unsupported = false, "Vulkan "+d.APIVersion+" < 1.1"
	case best < 0:
		d.Supported, d.Unsupported = false, "no compute queue"
	default:
		if missing := missingSubgroupSupport(d.extra); missing != "" {
			d.Supported, d.Unsupported = false, missing
		}
	}
	return d
}

// queueScore ranks compute queue families: timestamps first, then a
// dedicated compute family.
func queueScore(q vk.QueueFamilyProperties) int {
	s := 0
	if q.TimestampValidBits > 0 {
		s += 2
	}
	if q.QueueFlags&vk.QueueFlags(vk.QueueGraphicsBit) == 0 {
		s++
	}
	return s
}

func enumerate(in vk.Instance) ([]DeviceInfo, error) {
	var n uint32
	if err := check(vk.EnumeratePhysicalDevices(in, &n, nil), "vkEnumeratePhysicalDevices"); err != nil {
		return nil, err
	}
	pds := make([]vk.PhysicalDevice, n)
	if err := check(vk.EnumeratePhysicalDevices(in, &n, pds), "vkEnumeratePhysicalDevices"); err != nil {
		return nil, err
	}
	out := make([]DeviceInfo, 0, n)
	for i, pd := range pds[:n] {
		out = append(out, describe(i, pd))
	}
	return out, nil
}

// DefaultDevice returns the index the default choice picks: the supported
// device of the most preferred type (discrete > integrated > virtual > CPU),
// the lowest index among equals; -1 when none is supported.
func DefaultDevice(devs []DeviceInfo) int {
	order := make([]int, 0, len(devs))
	for i := range devs {
		if devs[i].Supported {
			order = append(order, i)
		}
	}
	if len(order) == 0 {
		return -1
	}
	sort.SliceStable(order, func(a, b int) bool { return typeRank[devs[order[a]].Type] < typeRank[devs[order[b]].Type] })
	return order[0]
}

// SelectDevice picks a device by selector: "" for the default choice, a
// decimal index, or a case-insensitive name substring that must match
// exactly one device.
func SelectDevice(devs []DeviceInfo, selector string) (int, error) {
	if len(devs) == 0 {
		return -1, fmt.Errorf("engine: %w found: install a driver (`make deps` installs lavapipe, a CPU Vulkan device)", ErrNoDevice)
	}
	pick := -1
	switch {
	case selector == "":
		pick = DefaultDevice(devs)
		if pick < 0 {
			return -1, fmt.Errorf("engine: %w: none is supported (need Vulkan 1.1 and a compute queue); see `effv2vk devices`", ErrNoDevice)
		}
		return pick, nil
	default:
		if i, err := strconv.Atoi(selector); err == nil {
			if i < 0 || i >= len(devs) {
				return -1, fmt.Errorf("engine: device index %d out of range: %d device(s), see `effv2vk devices`", i, len(devs))
			}
			pick = i
			break
		}
		var names []string
		for i := range devs {
			names = append(names, devs[i].Name)
			if strings.Contains(strings.ToLower(devs[i].Name), strings.ToLower(selector)) {
				if pick >= 0 {
					return -1, fmt.Errorf("engine: device selector %q matches more than one device (%s, %s): use an index", selector, devs[pick].Name, devs[i].Name)
				}
				pick = i
			}
		}
		if pick < 0 {
			return -1, fmt.Errorf("engine: no device matches %q (devices: %s)", selector, strings.Join(names, "; "))
		}
	}
	if !devs[pick].Supported {
		return -1, fmt.Errorf("engine: device %d (%s) is not supported: %s", pick, devs[pick].Name, devs[pick].Unsupported)
	}
	return pick, nil
}

// ListDevices enumerates the physical devices and returns them with the
// index the default choice (or $EFFV2VK_DEVICE, when set) picks, -1 when
// the selection fails.
func ListDevices() ([]DeviceInfo, int, error) {
	in, err := sharedInstance(false)
	if err != nil {
		return nil, -1, err
	}
	devs, err := enumerate(in.handle)
	if err != nil {
		return nil, -1, err
	}
	pick, err := SelectDevice(devs, os.Getenv("EFFV2VK_DEVICE"))
	if err != nil {
		pick = -1
	}
	return devs, pick, nil
}
