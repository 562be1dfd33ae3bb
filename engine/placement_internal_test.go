package engine

import "testing"

// Memory layouts as vulkaninfo shows them on common devices.
var (
	lavapipeMemory = memoryLayout{
		heaps: []MemoryHeap{{Size: 2 << 30, DeviceLocal: true}},
		types: []memoryTypeDesc{{memDeviceLocal | memHostVisible | memHostCoherent | memHostCached, 0}},
	}
	// A discrete GPU without resizable BAR: 24 GiB of VRAM, system memory,
	// and a 256 MiB host-visible window into VRAM.
	discreteMemory = memoryLayout{
		heaps: []MemoryHeap{{Size: 24 << 30, DeviceLocal: true}, {Size: 64 << 30}, {Size: 256 << 20, DeviceLocal: true}},
		types: []memoryTypeDesc{
			{0, 1},
			{memDeviceLocal, 0},
			{memHostVisible | memHostCoherent, 1},
			{memHostVisible | memHostCoherent | memHostCached, 1},
			{memDeviceLocal | memHostVisible | memHostCoherent, 2},
		},
	}
	// The same GPU with resizable BAR: all of VRAM is host-visible, but
	// uncached (write-combined) and across PCIe.
	resizableBARMemory = memoryLayout{
		heaps: []MemoryHeap{{Size: 16 << 30, DeviceLocal: true}, {Size: 32 << 30}},
		types: []memoryTypeDesc{
			{memDeviceLocal | memHostVisible | memHostCoherent, 0},
			{memDeviceLocal, 0},
			{memHostVisible | memHostCoherent | memHostCached, 1},
			{memHostVisible | memHostCoherent, 1},
		},
	}
	// An integrated GPU: one heap of shared memory.
	integratedMemory = memoryLayout{
		heaps: []MemoryHeap{{Size: 8 << 30, DeviceLocal: true}},
		types: []memoryTypeDesc{{memDeviceLocal, 0}, {memDeviceLocal | memHostVisible | memHostCoherent, 0},
			{memDeviceLocal | memHostVisible | memHostCoherent | memHostCached, 0}},
	}
)

func TestPlace(t *testing.T) {
	cases := []struct {
		name    string
		m       memoryLayout
		typ     DeviceType
		force   bool
		want    placement
		comment string
	}{
		{"lavapipe", lavapipeMemory, CPU, false, placement{0, true, 0, 0, -1}, "one mapped heap"},
		{"lavapipe staged", lavapipeMemory, CPU, true, placement{0, false, 0, 0, 0}, "the switch unmaps it; small tensors stay mapped"},
		{"discrete", discreteMemory, DiscreteGPU, false, placement{1, false, 2, 3, 4}, "VRAM, not the 256 MiB BAR heap; readback cached; small tensors in the BAR"},
		{"resizable BAR", resizableBARMemory, DiscreteGPU, false, placement{1, false, 2, 2, 0}, "plain VRAM: uncached BAR reads are slow; small tensors in the BAR"},
		{"integrated", integratedMemory, IntegratedGPU, false, placement{1, true, 1, 2, -1}, "shared memory is mapped"},
	}
	for _, c := range cases {
		got, err := place(c.m, c.typ, c.force)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got != c.want {
			t.Errorf("%s (%s): got %+v, want %+v", c.name, c.comment, got, c.want)
		}
	}
	if _, err := place(memoryLayout{heaps: []MemoryHeap{{Size: 1 << 30, DeviceLocal: true}}, types: []memoryTypeDesc{{memDeviceLocal, 0}}}, DiscreteGPU, false); err == nil {
		t.Error("no host-visible memory: no error")
	}
}

func TestSwitchesFromEnv(t *testing.T) {
	t.Setenv(envForceStaging, "1")
	t.Setenv(envMaxStorageRange, "1048576")
	t.Setenv(envOffsetAlignment, "4")
	t.Setenv(envDeviceMemory, "67108864")
	s, err := switchesFromEnv()
	if err != nil || !s.forceStaging || s.smallMapped || s.maxStorageRange != 1<<20 || s.offsetAlignment != 4 || s.deviceMemory != 64<<20 {
		t.Fatalf("got %+v, %v", s, err)
	}
	t.Setenv(envForceStaging, "bar")
	if s, err := switchesFromEnv(); err != nil || !s.forceStaging || !s.smallMapped {
		t.Fatalf("%s=bar: got %+v, %v", envForceStaging, s, err)
	}
	for env, bad := range map[string]string{envForceStaging: "yes", envMaxStorageRange: "1000", envOffsetAlignment: "12", envDeviceMemory: "4096"} {
		t.Run(env, func(t *testing.T) {
			t.Setenv(env, bad)
			if _, err := switchesFromEnv(); err == nil {
				t.Errorf("%s=%s: no error", env, bad)
			}
		})
	}
	info := DeviceInfo{Name: "dev", MaxStorageBufferRange: 1 << 27}
	info.limits.MinStorageBufferOffsetAlignment = 64
	if err := (switches{offsetAlignment: 4}).apply(&info); err == nil {
		t.Error("alignment 4 on a device that needs 64: no error")
	}
	if err := (switches{maxStorageRange: 1 << 28}).apply(&info); err == nil {
		t.Error("a storage range above the device's: no error")
	}
}
