package engine

import (
	"fmt"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// DType is the storage type of a tensor's elements.
type DType int

// Storage types. Float16 is reserved for half-precision storage.
const (
	Float32 DType = iota
	Int32
	Uint32
	Uint8
	Float16
)

// Size is the byte size of one element.
func (t DType) Size() int {
	switch t {
	case Uint8:
		return 1
	case Float16:
		return 2
	}
	return 4
}

func (t DType) String() string {
	return [...]string{"float32", "int32", "uint32", "uint8", "float16"}[t]
}

// tensorUsage lets every tensor be bound as a storage buffer, a texel buffer
// of either kind, and be a copy source and destination.
const tensorUsage = vk.BufferUsageFlags(vk.BufferUsageStorageBufferBit | vk.BufferUsageUniformTexelBufferBit |
	vk.BufferUsageStorageTexelBufferBit | vk.BufferUsageTransferSrcBit | vk.BufferUsageTransferDstBit)

// Tensor is a shaped range of device memory. A tensor made by Slice shares
// its parent's buffer.
type Tensor struct {
	Name  string
	DType DType
	Shape []int

	dev    *Device
	root   *Tensor // owner of the VkBuffer; itself for an allocation
	buf    vk.Buffer
	blk    *block
	arena  *arena
	memOff uint64 // offset of the buffer in blk.mem (root only)
	memLen uint64 // bytes allocated (root only)
	bufLen uint64 // size of the VkBuffer
	off    uint64 // offset of this tensor in root's buffer
	bytes  uint64 // logical byte size
	views  map[vk.Format]vk.BufferView
	freed  bool
	plan   *planState // set on tensors made inside Device.Plan (no memory)
	small  bool       // placed in device-local host-visible memory (see newTensor)
}

// Len is the number of elements.
func (t *Tensor) Len() int {
	n := 1
	for _, s := range t.Shape {
		n *= s
	}
	return n
}

// Bytes is the logical byte size.
func (t *Tensor) Bytes() uint64 { return t.bytes }

func (t *Tensor) String() string {
	return fmt.Sprintf("%s %s%v", t.Name, t.DType, t.Shape)
}

// NewTensor allocates a tensor. Its contents are undefined until written.
// Tensors of up to 64 KiB may be placed in device-local host-visible memory
// (see smallTensorBytes).
func (d *Device) NewTensor(name string, dt DType, shape ...int) (t *Tensor, err error) {
	withoutGC(func() { t, err = d.newTensor(name, dt, shape...) })
	return t, err
}

// NewHostTensor allocates a tensor in host-visible memory (system memory
// on discrete GPUs) that Upload writes directly, without a staging copy or
// a wait for the device. It is meant for inputs written while the device
// runs other work and copied into device tensors by a recorded Copy (the
// double-buffered batches of a training loop); kernels reading it directly
// would read over the bus on discrete GPUs.
func (d *Device) NewHostTensor(name string, dt DType, shape ...int) (t *Tensor, err error) {
	withoutGC(func() { t, err = d.newTensorIn(name, dt, d.memTypeHost, true, shape) })
	return t, err
}

func (d *Device) newTensor(name string, dt DType, shape ...int) (*Tensor, error) {
	if d.smallFits(dt, shape) {
		if t, err := d.newTensorIn(name, dt, uint32(d.memTypeSmall), true, shape); err == nil {
			t.small = true
			d.smallInUse += t.memLen
			return t, nil
		}
	}
	return d.newTensorIn(name, dt, d.memTypeMain, d.mainMapped, shape)
}

// Small tensors (step counters, hyperparameters, labels, losses, the
// per-channel vectors of a layer: up to smallTensorBytes) live, where
// tensors are not mapped but the device has device-local host-visible
// memory (a PCIe BAR window), in that memory, mapped: Upload and Download
// are plain copies instead of a staging copy and a wait, and kernels still
// read them from device memory. They take at most smallTensorBudget bytes
// of it (a BAR window is often 256 MiB); beyond, they go where other
// tensors go.
const (
	smallTensorBytes  = 64 << 10
	smallTensorBudget = 8 << 20
)

// smallFits reports whether a tensor of dt and shape goes to small-tensor
// memory.
func (d *Device) smallFits(dt DType, shape []int) bool {
	if d.memTypeSmall < 0 || d.mainMapped || d.plan != nil {
		return false
	}
	n := uint64(dt.Size())
	for _, s := range shape {
		if s <= 0 {
			return false
		}
		n *= uint64(s)
	}
	return n <= smallTensorBytes && d.smallInUse+alignUp(n, 256) <= smallTensorBudget
}

// Small reports whether the tensor lives in small-tensor memory
// (device-local and host-mapped; see NewTensor).
func (t *Tensor) Small() bool { return t.root.small }

// newTensorIn allocates a tensor in memory type memType, host-mapped when
// mapped is set.
func (d *Device) newTensorIn(name string, dt DType, memType uint32, mapped bool, shape []int) (*Tensor, error) {
	n := 1
	for _, s := range shape {
		if s <= 0 {
			return nil, fmt.Errorf("engine: tensor %s: shape %v has a non-positive dimension", name, shape)
		}
		n *= s
	}
	bytes := uint64(n) * uint64(dt.Size())
	if len(shape) == 0 || bytes == 0 {
		return nil, fmt.Errorf("engine: tensor %s: zero-size allocation (shape %v)", name, shape)
	}
	// Round up to 16 bytes so a vec4 texel view always covers the tensor.
	// A tensor may be larger than maxStorageBufferRange: what a kernel binds
	// of it is checked at each dispatch (see the package doc).
	size := alignUp(bytes, 16)
	if d.plan != nil {
		return d.plannedTensor(name, dt, shape, bytes), nil
	}
	if max := d.maxAllocation; max > 0 && size > max {
		return nil, fmt.Errorf("engine: tensor %s %v is %s, more than one allocation may hold on %s (maxMemoryAllocationSize %s): %w",
			name, shape, formatBytes(bytes), d.Info.Name, formatBytes(max), ErrOutOfDeviceMemory)
	}
	var buf vk.Buffer
	if err := check(vk.CreateBuffer(d.handle, &vk.BufferCreateInfo{
		SType:       vk.StructureTypeBufferCreateInfo,
		Size:        vk.DeviceSize(size),
		Usage:       tensorUsage,
		SharingMode: vk.SharingModeExclusive,
	}, nil, &buf), "vkCreateBuffer "+name); err != nil {
		return nil, err
	}
	var req vk.MemoryRequirements
	vk.GetBufferMemoryRequirements(d.handle, buf, &req)
	req.Deref()
	if req.MemoryTypeBits&(1<<memType) == 0 {
		vk.DestroyBuffer(d.handle, buf, nil)
		return nil, fmt.Errorf("engine: tensor %s: buffer cannot live in memory type %d", name, memType)
	}
	a := d.arenaFor(memType, mapped)
	blk, off, err := a.alloc(uint64(req.Size), uint64(req.Alignment))
	if err != nil {
		vk.DestroyBuffer(d.handle, buf, nil)
		return nil, fmt.Errorf("engine: tensor %s %v: %w", name, shape, err)
	}
	if err := check(vk.BindBufferMemory(d.handle, buf, blk.mem, vk.DeviceSize(off)), "vkBindBufferMemory "+name); err != nil {
		a.release(blk, off, uint64(req.Size))
		vk.DestroyBuffer(d.handle, buf, nil)
		return nil, err
	}
	t := &Tensor{Name: name, DType: dt, Shape: append([]int(nil), shape...), dev: d, buf: buf, blk: blk, arena: a,
		memOff: off, memLen: uint64(req.Size), bufLen: size, bytes: bytes}
	t.root = t
	return t, nil
}

// Slice returns a tensor viewing elements [offset, offset+prod(shape)) of t,
// sharing its memory. offset*elementSize must meet the device's storage and
// texel buffer offset alignments.
func (t *Tensor) Slice(name string, offset int, shape ...int) (*Tensor, error) {
	n := 1
	for _, s := range shape {
		n *= s
	}
	if offset < 0 || n <= 0 || offset+n > t.Len() {
		return nil, fmt.Errorf("engine: slice %s: [%d, %d) is outside %s", name, offset, offset+n, t)
	}
	es := uint64(t.DType.Size())
	off := t.off + uint64(offset)*es
	align := uint64(t.dev.OffsetAlignment())
	if off%align != 0 {
		return nil, fmt.Errorf("engine: slice %s: byte offset %d of %s is not a multiple of the device's buffer offset alignment %d", name, off, t, align)
	}
	return &Tensor{Name: name, DType: t.DType, Shape: append([]int(nil), shape...), dev: t.dev, root: t.root,
		buf: t.root.buf, bufLen: t.root.bufLen, off: off, bytes: uint64(n) * es, plan: t.root.plan}, nil
}

// view returns a texel buffer view of the tensor in the given format.
func (t *Tensor) view(f vk.Format, texelSize uint64) (v vk.BufferView, err error) {
	withoutGC(func() { v, err = t.viewNow(f, texelSize) })
	return v, err
}

func (t *Tensor) viewNow(f vk.Format, texelSize uint64) (vk.BufferView, error) {
	if v, ok := t.views[f]; ok {
		return v, nil
	}
	rng := alignUp(t.bytes, texelSize)
	if t.off%texelSize != 0 || t.off+rng > t.bufLen {
		return vk.NullBufferView, fmt.Errorf("engine: a %d-byte texel view of %s (bytes [%d, %d) of its buffer) would not start on a texel or run past the buffer's %d bytes",
			texelSize, t, t.off, t.off+rng, t.bufLen)
	}
	if n := rng / texelSize; n > t.dev.Info.MaxTexelBufferElements {
		return vk.NullBufferView, fmt.Errorf("engine: %w: %s has %d texels, more than this device's maxTexelBufferElements %d", ErrBindingTooLarge, t, n, t.dev.Info.MaxTexelBufferElements)
	}
	var v vk.BufferView
	if err := check(vk.CreateBufferView(t.dev.handle, &vk.BufferViewCreateInfo{
		SType:  vk.StructureTypeBufferViewCreateInfo,
		Buffer: t.buf,
		Format: f,
		Offset: vk.DeviceSize(t.off),
		Range:  vk.DeviceSize(rng),
	}, nil, &v), "vkCreateBufferView "+t.Name); err != nil {
		return vk.NullBufferView, err
	}
	if t.views == nil {
		t.views = map[vk.Format]vk.BufferView{}
	}
	t.views[f] = v
	return v, nil
}

// Free releases the tensor's views and, for an allocation, its memory. Slices
// of a freed tensor must not be used.
func (t *Tensor) Free() {
	if t == nil || t.freed {
		return
	}
	t.freed = true
	if t.planned() {
		t.freePlanned()
		return
	}
	for _, v := range t.views {
		vk.DestroyBufferView(t.dev.handle, v, nil)
	}
	t.views = nil
	if t.root == t {
		if t.small {
			t.dev.smallInUse -= t.memLen
		}
		vk.DestroyBuffer(t.dev.handle, t.buf, nil)
		t.arena.release(t.blk, t.memOff, t.memLen)
	}
}

// hostBytes returns the tensor's bytes in mapped memory, or nil when the
// memory is not host-visible.
func (t *Tensor) hostBytes() []byte {
	r := t.root
	if r.blk.ptr == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Add(r.blk.ptr, r.memOff+t.off)), t.bytes)
}
