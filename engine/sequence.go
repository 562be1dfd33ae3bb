package engine

import (
	"fmt"
	"unsafe"

	"github.com/effv2vk/effv2vk/shaders"
	vk "github.com/vulkan-go/vulkan"
)

// Grid is a number of workgroups in each dimension.
type Grid struct{ X, Y, Z int }

// hazardState is what a sequence knows about a buffer since the last
// barrier.
type hazardState struct {
	written bool // written by a command after the last barrier
	read    bool // read by a command after the last barrier
}

// Sequence records dispatches into one command buffer that can be replayed
// any number of times with Device.Run. Recording errors are sticky: the
// first one is returned by Finish (and Run), and later calls do nothing.
type Sequence struct {
	Name string

	dev      *Device
	cmd      vk.CommandBuffer
	steps    []hostStep // parts ended by HostCall, run before cmd
	pools    []vk.DescriptorPool
	poolFree int
	hazards  map[vk.Buffer]*hazardState
	err      error
	finished bool
	released bool
	inFlight int // submissions by Device.Submit not yet waited for

	dispatches int
	barriers   int
	skipNext   bool

	owned    []*Tensor // slices and scratch made for this recording (see Own)
	planOnly bool      // made inside Device.Plan: checks and counts, records nothing

	profiling bool
	queries   vk.QueryPool
	labels    []string
	stats     map[string]*KernelTime
}

// SequenceOptions configure NewSequence.
type SequenceOptions struct {
	// Profile writes a timestamp before and after every dispatch; Profile()
	// then reports per-kernel times accumulated over runs.
	Profile bool
	// MaxDispatches bounds the timestamps reserved when profiling
	// (default 4096).
	MaxDispatches int
}

const descriptorSetsPerPool = 256

// NewSequence starts recording a command buffer.
func (d *Device) NewSequence(name string, opts SequenceOptions) (s *Sequence, err error) {
	withoutGC(func() { s, err = d.newSequence(name, opts) })
	return s, err
}

func (d *Device) newSequence(name string, opts SequenceOptions) (*Sequence, error) {
	if d.plan != nil {
		return &Sequence{Name: name, dev: d, planOnly: true, hazards: map[vk.Buffer]*hazardState{}}, nil
	}
	cmd, err := d.allocCommandBuffer()
	if err != nil {
		return nil, err
	}
	s := &Sequence{Name: name, dev: d, cmd: cmd, hazards: map[vk.Buffer]*hazardState{}}
	// Simultaneous use: Device.Submit may queue a replay while the
	// previous one is still pending (a training step behind the last).
	if err := check(vk.BeginCommandBuffer(cmd, &vk.CommandBufferBeginInfo{
		SType: vk.StructureTypeCommandBufferBeginInfo,
		Flags: vk.CommandBufferUsageFlags(vk.CommandBufferUsageSimultaneousUseBit),
	}), "vkBeginCommandBuffer "+name); err != nil {
		s.Release()
		return nil, err
	}
	if opts.Profile {
		if !d.Info.TimestampsOnCompute {
			s.Release()
			return nil, fmt.Errorf("engine: profiling %s: %s has no timestamps on its compute queue", name, d.Info.Name)
		}
		n := opts.MaxDispatches
		if n <= 0 {
			n = 4096
		}
		var qp vk.QueryPool
		if err := check(vk.CreateQueryPool(d.handle, &vk.QueryPoolCreateInfo{
			SType:      vk.StructureTypeQueryPoolCreateInfo,
			QueryType:  vk.QueryTypeTimestamp,
			QueryCount: uint32(2 * n),
		}, nil, &qp), "vkCreateQueryPool"); err != nil {
			s.Release()
			return nil, err
		}
		s.profiling, s.queries, s.labels = true, qp, make([]string, 0, n)
		s.stats = map[string]*KernelTime{}
		vk.CmdResetQueryPool(cmd, qp, 0, uint32(2*n))
	}
	// Make the previous submission's writes (and the host's) visible.
	fullBarrier(cmd)
	return s, nil
}

// Err returns the first recording error.
func (s *Sequence) Err() error { return s.err }

func (s *Sequence) fail(err error) {
	if s.err == nil {
		s.err = fmt.Errorf("sequence %s: %w", s.Name, err)
	}
}

// Barriers is the number of barriers recorded between dispatches.
func (s *Sequence) Barriers() int { return s.barriers }

// Dispatches is the number of dispatches recorded.
func (s *Sequence) Dispatches() int { return s.dispatches }

// SkipNextBarrier makes the next dispatch omit the barrier it needs. It
// exists only for tests that prove synchronization validation catches a
// missing barrier.
func (s *Sequence) SkipNextBarrier() { s.skipNext = true }

func (s *Sequence) descriptorSet(k *Kernel) (vk.DescriptorSet, error) {
	for attempt := 0; attempt < 2; attempt++ {
		if len(s.pools) == 0 || s.poolFree == 0 {
			n := uint32(descriptorSetsPerPool)
			var pool vk.DescriptorPool
			if err := check(vk.CreateDescriptorPool(s.dev.handle, &vk.DescriptorPoolCreateInfo{
				SType:         vk.StructureTypeDescriptorPoolCreateInfo,
				MaxSets:       n,
				PoolSizeCount: 3,
				PPoolSizes: []vk.DescriptorPoolSize{
					{Type: vk.DescriptorTypeStorageBuffer, DescriptorCount: 16 * n},
					{Type: vk.DescriptorTypeUniformTexelBuffer, DescriptorCount: 16 * n},
					{Type: vk.DescriptorTypeStorageTexelBuffer, DescriptorCount: 16 * n},
				},
			}, nil, &pool), "vkCreateDescriptorPool"); err != nil {
				return vk.NullDescriptorSet, err
			}
			s.pools = append(s.pools, pool)
			s.poolFree = int(n)
		}
		sets := make([]vk.DescriptorSet, 1)
		ret := vk.AllocateDescriptorSets(s.dev.handle, &vk.DescriptorSetAllocateInfo{
			SType:              vk.StructureTypeDescriptorSetAllocateInfo,
			DescriptorPool:     s.pools[len(s.pools)-1],
			DescriptorSetCount: 1,
			PSetLayouts:        []vk.DescriptorSetLayout{k.setLay},
		}, &sets[0])
		if ret == vk.Success {
			s.poolFree--
			return sets[0], nil
		}
		s.poolFree = 0 // pool exhausted (too many descriptors of a type): start a new one
	}
	return vk.NullDescriptorSet, fmt.Errorf("cannot allocate a descriptor set for kernel %s", k.Info.Name)
}

var texelFormats = map[string]struct {
	format vk.Format
	size   uint64
}{
	"RGBA32F":  {vk.FormatR32g32b32a32Sfloat, 16},
	"R32F":     {vk.FormatR32Sfloat, 4},
	"R32UI":    {vk.FormatR32Uint, 4},
	"RGBA32UI": {vk.FormatR32g32b32a32Uint, 16},
}

// Dispatch records kernel k over grid, with push constants push (the
// kernel's mirror struct from package shaders, or nil) and one tensor per
// binding, in binding order. The barrier before it is derived from the
// bindings' declared access.
func (s *Sequence) Dispatch(k *Kernel, grid Grid, push any, args ...*Tensor) {
	if s.err != nil || k == nil {
		return
	}
	if s.finished {
		s.fail(fmt.Errorf("dispatch %s after Finish", k.Info.Name))
		return
	}
	if s.planOnly {
		s.planDispatch(k, args)
		return
	}
	if err := s.dispatch(k, grid, push, args); err != nil {
		s.fail(err)
	}
}

// Dispatch1D records kernel k over at least n invocations: ceil(n / local
// size) workgroups, folded into 2D or 3D when wider than the device allows
// (kernels index with linear_invocation()).
func (s *Sequence) Dispatch1D(k *Kernel, n int, push any, args ...*Tensor) {
	if s.err != nil || k == nil {
		return
	}
	per := int(k.LocalSize[0] * k.LocalSize[1] * k.LocalSize[2])
	g, err := s.dev.FoldGroups((n + per - 1) / per)
	if err != nil {
		s.fail(fmt.Errorf("kernel %s over %d invocations: %w", k.Info.Name, n, err))
		return
	}
	s.Dispatch(k, g, push, args...)
}

// FoldGroups spreads n workgroups over a grid within the device's limits.
func (d *Device) FoldGroups(n int) (Grid, error) {
	if n < 1 {
		n = 1
	}
	max := d.Info.MaxWorkgroupCount
	x := n
	if x > int(max[0]) {
		x = int(max[0])
	}
	rest := (n + x - 1) / x
	y := rest
	if y > int(max[1]) {
		y = int(max[1])
	}
	z := (rest + y - 1) / y
	if z > int(max[2]) {
		return Grid{}, fmt.Errorf("%d workgroups exceed the device's grid limits %v", n, max)
	}
	return Grid{x, y, z}, nil
}

func (s *Sequence) dispatch(k *Kernel, grid Grid, push any, args []*Tensor) (err error) {
	withoutGC(func() { err = s.dispatchNow(k, grid, push, args) })
	return err
}

func (s *Sequence) dispatchNow(k *Kernel, grid Grid, push any, args []*Tensor) error {
	info := k.Info
	if len(args) != len(info.Bindings) {
		names := make([]string, len(info.Bindings))
		for i, b := range info.Bindings {
			names[i] = b.Name
		}
		return fmt.Errorf("kernel %s takes %d bindings %v, got %d tensors", info.Name, len(info.Bindings), names, len(args))
	}
	max := s.dev.Info.MaxWorkgroupCount
	if grid.X < 1 || grid.Y < 1 || grid.Z < 1 || grid.X > int(max[0]) || grid.Y > int(max[1]) || grid.Z > int(max[2]) {
		return fmt.Errorf("kernel %s: grid %v is empty or beyond the device's limits %v (use Dispatch1D to fold)", info.Name, grid, max)
	}
	if err := checkNoInPlace(info, args); err != nil {
		return err
	}
	pc, err := k.encodePush(push)
	if err != nil {
		return err
	}
	set, err := s.descriptorSet(k)
	if err != nil {
		return err
	}
	writes := make([]vk.WriteDescriptorSet, len(args))
	for i, t := range args {
		b := info.Bindings[i]
		if t == nil || t.freed {
			return fmt.Errorf("kernel %s: binding %d (%s) is nil or freed", info.Name, i, b.Name)
		}
		if t.dev != s.dev {
			return fmt.Errorf("kernel %s: binding %d (%s) tensor %s belongs to another device", info.Name, i, b.Name, t.Name)
		}
		if t.planned() {
			return fmt.Errorf("kernel %s: binding %d (%s) tensor %s: %w (a real sequence cannot bind a tensor made inside Device.Plan)", info.Name, i, b.Name, t.Name, ErrPlanned)
		}
		w := vk.WriteDescriptorSet{
			SType:           vk.StructureTypeWriteDescriptorSet,
			DstSet:          set,
			DstBinding:      b.Binding,
			DescriptorCount: 1,
			DescriptorType:  descriptorType(b.Kind),
		}
		if b.Kind == shaders.StorageBuffer {
			if max := s.dev.Info.MaxStorageBufferRange; t.bytes > max {
				return fmt.Errorf("kernel %s: binding %d (%s): %w", info.Name, i, b.Name, bindingRangeError(t, max, s.dev.Info.Name))
			}
			w.PBufferInfo = []vk.DescriptorBufferInfo{{Buffer: t.buf, Offset: vk.DeviceSize(t.off), Range: vk.DeviceSize(alignUp(t.bytes, 4))}}
		} else {
			f, ok := texelFormats[b.Format]
			if !ok {
				return fmt.Errorf("kernel %s: binding %d has unknown texel format %q", info.Name, i, b.Format)
			}
			v, err := t.view(f.format, f.size)
			if err != nil {
				return err
			}
			w.PTexelBufferView = []vk.BufferView{v}
		}
		writes[i] = w
	}
	vk.UpdateDescriptorSets(s.dev.handle, uint32(len(writes)), writes, 0, nil)

	s.orderAccesses(info, args)

	cmd := s.cmd
	vk.CmdBindPipeline(cmd, vk.PipelineBindPointCompute, k.pipeline)
	vk.CmdBindDescriptorSets(cmd, vk.PipelineBindPointCompute, k.layout, 0, 1, []vk.DescriptorSet{set}, 0, nil)
	if len(pc) > 0 {
		vk.CmdPushConstants(cmd, k.layout, vk.ShaderStageFlags(vk.ShaderStageComputeBit), 0, uint32(len(pc)), unsafe.Pointer(&pc[0]))
	}
	if s.profiling {
		q := uint32(2 * len(s.labels))
		if int(q)+2 > 2*cap(s.labels) {
			return fmt.Errorf("more than %d dispatches while profiling: raise SequenceOptions.MaxDispatches", cap(s.labels))
		}
		// Both timestamps wait for the compute work before them: the first
		// for the earlier dispatches (a top-of-pipe one could be written
		// while they still run and charge their time to this one), the
		// second for this dispatch.
		vk.CmdWriteTimestamp(cmd, vk.PipelineStageComputeShaderBit, s.queries, q)
		vk.CmdDispatch(cmd, uint32(grid.X), uint32(grid.Y), uint32(grid.Z))
		vk.CmdWriteTimestamp(cmd, vk.PipelineStageComputeShaderBit, s.queries, q+1)
		s.labels = append(s.labels, info.Name)
	} else {
		vk.CmdDispatch(cmd, uint32(grid.X), uint32(grid.Y), uint32(grid.Z))
	}
	s.dispatches++
	return nil
}

// orderAccesses records a barrier when this command reads something written
// since the last barrier, or writes something read or written since then
// (read-after-write, write-after-read, write-after-write), then notes its
// own accesses.
func (s *Sequence) orderAccesses(info *shaders.Kernel, args []*Tensor) {
	need := false
	for i, t := range args {
		h := s.hazards[t.buf]
		if h == nil {
			continue
		}
		acc := info.Bindings[i].Access
		if acc&shaders.Read != 0 && h.written || acc&shaders.Write != 0 && (h.written || h.read) {
			need = true
		}
	}
	if need {
		if s.skipNext {
			s.skipNext = false
		} else {
			s.barrier()
		}
	}
	for i, t := range args {
		h := s.hazards[t.buf]
		if h == nil {
			h = &hazardState{}
			s.hazards[t.buf] = h
		}
		acc := info.Bindings[i].Access
		h.read = h.read || acc&shaders.Read != 0
		h.written = h.written || acc&shaders.Write != 0
	}
}

// barrier makes all earlier compute and transfer writes visible to later
// compute and transfer reads and writes.
func (s *Sequence) barrier() { withoutGC(s.barrierNow) }

func (s *Sequence) barrierNow() {
	const stages = vk.PipelineStageFlags(vk.PipelineStageComputeShaderBit | vk.PipelineStageTransferBit)
	src := vk.AccessFlags(vk.AccessShaderWriteBit | vk.AccessTransferWriteBit)
	dst := vk.AccessFlags(vk.AccessShaderReadBit | vk.AccessShaderWriteBit | vk.AccessTransferReadBit | vk.AccessTransferWriteBit)
	vk.CmdPipelineBarrier(s.cmd, stages, stages, 0, 1, []vk.MemoryBarrier{{SType: vk.StructureTypeMemoryBarrier, SrcAccessMask: src, DstAccessMask: dst}}, 0, nil, 0, nil)
	s.barriers++
	clear(s.hazards)
}

// Copy records a copy of src into dst (same byte size).
func (s *Sequence) Copy(dst, src *Tensor) { withoutGC(func() { s.copyNow(dst, src) }) }

func (s *Sequence) copyNow(dst, src *Tensor) {
	if s.err != nil {
		return
	}
	if dst.bytes != src.bytes {
		s.fail(fmt.Errorf("copy %s -> %s: sizes differ (%d vs %d bytes)", src, dst, src.bytes, dst.bytes))
		return
	}
	if s.planOnly {
		return
	}
	s.transfer(src, dst)
	vk.CmdCopyBuffer(s.cmd, src.buf, dst.buf, 1, []vk.BufferCopy{{SrcOffset: vk.DeviceSize(src.off), DstOffset: vk.DeviceSize(dst.off), Size: vk.DeviceSize(src.bytes)}})
}

// Zero records setting every byte of t to zero.
func (s *Sequence) Zero(t *Tensor) { withoutGC(func() { s.zeroNow(t) }) }

func (s *Sequence) zeroNow(t *Tensor) {
	if s.err != nil || s.planOnly {
		return
	}
	s.transfer(nil, t)
	vk.CmdFillBuffer(s.cmd, t.buf, vk.DeviceSize(t.off), vk.DeviceSize(alignUp(t.bytes, 4)), 0)
}

// transfer orders a transfer command that reads src (may be nil) and writes dst.
func (s *Sequence) transfer(src, dst *Tensor) {
	need := false
	if src != nil {
		if h := s.hazards[src.buf]; h != nil && h.written {
			need = true
		}
	}
	if h := s.hazards[dst.buf]; h != nil && (h.written || h.read) {
		need = true
	}
	if need {
		s.barrier()
	}
	if src != nil {
		h := s.hazards[src.buf]
		if h == nil {
			h = &hazardState{}
			s.hazards[src.buf] = h
		}
		h.read = true
	}
	h := s.hazards[dst.buf]
	if h == nil {
		h = &hazardState{}
		s.hazards[dst.buf] = h
	}
	h.written = true
}

// Finish ends recording. The sequence can then be run any number of times.
func (s *Sequence) Finish() (err error) {
	withoutGC(func() { err = s.finishNow() })
	return err
}

func (s *Sequence) finishNow() error {
	if s.finished || s.err != nil {
		return s.err
	}
	if s.planOnly {
		s.finished = true
		return nil
	}
	fullBarrier(s.cmd) // make results visible to the host and to the next submission
	if err := check(vk.EndCommandBuffer(s.cmd), "vkEndCommandBuffer "+s.Name); err != nil {
		s.fail(err)
		return s.err
	}
	s.finished = true
	return nil
}

// Run submits a finished sequence and waits for it to complete.
func (d *Device) Run(s *Sequence) error {
	if s.err != nil {
		return s.err
	}
	if !s.finished {
		if err := s.Finish(); err != nil {
			return err
		}
	}
	if s.released {
		return fmt.Errorf("engine: run of released sequence %s", s.Name)
	}
	if s.planOnly {
		return fmt.Errorf("engine: run of sequence %s: %w", s.Name, ErrPlanned)
	}
	if s.inFlight > 0 {
		return fmt.Errorf("engine: run of sequence %s while it is pending: wait for it first", s.Name)
	}
	if err := d.runHostSteps(s); err != nil {
		return err
	}
	if err := d.submitWait(s.cmd); err != nil {
		return fmt.Errorf("sequence %s: %w", s.Name, err)
	}
	if s.profiling {
		return s.collectTimes()
	}
	return nil
}

// Release frees the command buffer, descriptor pools and query pool.
func (s *Sequence) Release() { withoutGC(s.releaseNow) }

func (s *Sequence) releaseNow() {
	if s.released {
		return
	}
	s.released = true
	h := s.dev.handle
	s.freeHostSteps()
	defer s.freeOwned()
	if s.cmd != nil {
		vk.FreeCommandBuffers(h, s.dev.cmdPool, 1, []vk.CommandBuffer{s.cmd})
	}
	for _, p := range s.pools {
		vk.DestroyDescriptorPool(h, p, nil)
	}
	if s.queries != vk.NullQueryPool {
		vk.DestroyQueryPool(h, s.queries, nil)
	}
}

// Device is the device the sequence records for.
func (s *Sequence) Device() *Device { return s.dev }

// Fail records err (with the sequence's name) as the sequence's error unless
// one is already recorded; typed kernel wrappers use it for shape errors.
func (s *Sequence) Fail(err error) { s.fail(err) }

// Kernel returns the named kernel of the sequence's device, recording any
// error in the sequence (and returning nil) so that wrappers can stay
// one call per line.
func (s *Sequence) Kernel(name string, spec ...Spec) *Kernel {
	if s.err != nil {
		return nil
	}
	return s.KernelWithSubgroupSize(name, 0, spec...)
}

// KernelWithSubgroupSize is Device.KernelWithSubgroupSize, recording any
// error in s (which then returns nil).
func (s *Sequence) KernelWithSubgroupSize(name string, subgroupSize uint32, spec ...Spec) *Kernel {
	if s.err != nil {
		return nil
	}
	k, err := s.dev.KernelWithSubgroupSize(name, subgroupSize, spec...)
	if err != nil {
		s.fail(err)
		return nil
	}
	return k
}

// checkNoInPlace refuses a dispatch that reads one binding and writes
// another over the same memory: no kernel runs in place (its invocations
// would read what others already wrote), and a memory plan that hands a
// buffer on too early shows up here. Views of one tensor with the same
// access (a vec4 and a scalar view, as some kernels declare) are allowed.
func checkNoInPlace(info *shaders.Kernel, args []*Tensor) error {
	for i, a := range args {
		for j := i + 1; j < len(args); j++ {
			b := args[j]
			if a == nil || b == nil || a.buf != b.buf || a.off+a.bytes <= b.off || b.off+b.bytes <= a.off {
				continue
			}
			ai, bj := info.Bindings[i].Access, info.Bindings[j].Access
			if !(ai == shaders.Read && bj&shaders.Write != 0 || bj == shaders.Read && ai&shaders.Write != 0) {
				continue
			}
			return fmt.Errorf("kernel %s: %s (binding %s) and %s (binding %s) share memory and one is written: kernels do not run in place",
				info.Name, a.Name, info.Bindings[i].Name, b.Name, info.Bindings[j].Name)
		}
	}
	return nil
}
