package engine

import (
	"encoding/binary"
	"fmt"
	"sort"
	"strings"

	"github.com/effv2vk/effv2vk/shaders"
	vk "github.com/vulkan-go/vulkan"
)

// Spec sets a specialization constant (by its constant_id) when a kernel's
// pipeline is built, e.g. a tile size or a local size.
type Spec struct {
	ID    uint32
	Value uint32
}

// subgroupSizeControlExtension lets a pipeline require its subgroup size
// (core in Vulkan 1.3; the instance asks for 1.1).
const subgroupSizeControlExtension = "VK_EXT_subgroup_size_control"

// requireFullSubgroupsBit is VK_PIPELINE_SHADER_STAGE_CREATE_REQUIRE_FULL_SUBGROUPS_BIT
// (missing from vulkan-go's 1.0 headers).
const requireFullSubgroupsBit = 0x2

// Kernel is a compute pipeline built from one entry of the shader index.
type Kernel struct {
	Info      *shaders.Kernel
	LocalSize [3]uint32 // after specialization
	// SubgroupSize is the subgroup size the pipeline was built to require
	// (0: the driver's choice), and FullSubgroups whether it also requires
	// every subgroup to be full.
	SubgroupSize  uint32
	FullSubgroups bool

	dev      *Device
	key      string
	module   vk.ShaderModule
	setLay   vk.DescriptorSetLayout
	layout   vk.PipelineLayout
	pipeline vk.Pipeline
}

// Name is the kernel's name, also its profiler label.
func (k *Kernel) Name() string { return k.Info.Name }

func descriptorType(k shaders.BindingKind) vk.DescriptorType {
	switch k {
	case shaders.UniformTexelBuffer:
		return vk.DescriptorTypeUniformTexelBuffer
	case shaders.StorageTexelBuffer:
		return vk.DescriptorTypeStorageTexelBuffer
	}
	return vk.DescriptorTypeStorageBuffer
}

// Kernel returns the named kernel's pipeline with the given specialization
// constants, building it on first use and caching it on the device.
func (d *Device) Kernel(name string, spec ...Spec) (*Kernel, error) {
	return d.KernelWithSubgroupSize(name, 0, spec...)
}

// KernelWithSubgroupSize is Kernel for a kernel that relies on its subgroup
// width: where the device allows it (DeviceInfo.RequiredSubgroupSize) the
// pipeline requires subgroups of subgroupSize invocations, and full ones
// when the device allows that too and the local size is a multiple of
// subgroupSize. Elsewhere the pipeline runs at the driver's size, which is
// the reported DeviceInfo.SubgroupSize for this project's Vulkan 1.1
// SPIR-V. A size the device cannot give is an error; 0 asks for nothing.
func (d *Device) KernelWithSubgroupSize(name string, subgroupSize uint32, spec ...Spec) (*Kernel, error) {
	info, err := shaders.Lookup(name)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	spec = append([]Spec(nil), spec...)
	sort.Slice(spec, func(i, j int) bool { return spec[i].ID < spec[j].ID })
	var key strings.Builder
	key.WriteString(name)
	for _, s := range spec {
		known := false
		for _, c := range info.Spec {
			known = known || c.ID == s.ID
		}
		if !known {
			return nil, fmt.Errorf("engine: kernel %s has no specialization constant with id %d", name, s.ID)
		}
		fmt.Fprintf(&key, ":%d=%d", s.ID, s.Value)
	}
	required := uint32(0)
	if subgroupSize != 0 && d.Info.RequiredSubgroupSize {
		if subgroupSize < d.Info.MinSubgroupSize || subgroupSize > d.Info.MaxSubgroupSize || subgroupSize&(subgroupSize-1) != 0 {
			return nil, fmt.Errorf("engine: kernel %s: subgroup size %d is not one the device offers (powers of two from %d to %d)", name, subgroupSize, d.Info.MinSubgroupSize, d.Info.MaxSubgroupSize)
		}
		required = subgroupSize
		fmt.Fprintf(&key, ":subgroup=%d", required)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if k, ok := d.kernels[key.String()]; ok {
		return k, nil
	}
	k := &Kernel{Info: info, dev: d, key: key.String(), LocalSize: info.LocalSize, SubgroupSize: required}
	for dim, id := range info.LocalSizeSpecID {
		for _, s := range spec {
			if id >= 0 && uint32(id) == s.ID {
				k.LocalSize[dim] = s.Value
			}
		}
	}
	k.FullSubgroups = required != 0 && d.Info.FullSubgroups && k.LocalSize[0]%required == 0
	if err := k.build(spec); err != nil {
		k.destroy()
		return nil, err
	}
	d.kernels[k.key] = k
	return k, nil
}

func (k *Kernel) build(spec []Spec) (err error) {
	withoutGC(func() { err = k.buildNow(spec) })
	return err
}

func (k *Kernel) buildNow(spec []Spec) error {
	d := k.dev
	if ls := k.LocalSize; ls[0]*ls[1]*ls[2] > d.Info.MaxWorkgroupInvocation {
		return fmt.Errorf("engine: kernel %s: local size %v exceeds the device's %d invocations per workgroup", k.Info.Name, ls, d.Info.MaxWorkgroupInvocation)
	}
	if k.Info.PushSize > d.Info.MaxPushConstantsSize {
		return fmt.Errorf("engine: kernel %s: %d bytes of push constants exceed the device's %d", k.Info.Name, k.Info.PushSize, d.Info.MaxPushConstantsSize)
	}
	code, err := k.Info.SPIRV()
	if err != nil {
		return fmt.Errorf("engine: %w", err)
	}
	words := make([]uint32, len(code)/4)
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(code[4*i:])
	}
	var mod vk.ShaderModule
	if err := check(vk.CreateShaderModule(d.handle, &vk.ShaderModuleCreateInfo{
		SType:    vk.StructureTypeShaderModuleCreateInfo,
		CodeSize: uint(len(code)), // bytes, while PCode is in words
		PCode:    words,
	}, nil, &mod), "vkCreateShaderModule "+k.Info.Name); err != nil {
		return err
	}
	k.module = mod

	binds := make([]vk.DescriptorSetLayoutBinding, len(k.Info.Bindings))
	for i, b := range k.Info.Bindings {
		binds[i] = vk.DescriptorSetLayoutBinding{
			Binding:         b.Binding,
			DescriptorType:  descriptorType(b.Kind),
			DescriptorCount: 1,
			StageFlags:      vk.ShaderStageFlags(vk.ShaderStageComputeBit),
		}
	}
	var setLay vk.DescriptorSetLayout
	if err := check(vk.CreateDescriptorSetLayout(d.handle, &vk.DescriptorSetLayoutCreateInfo{
		SType:        vk.StructureTypeDescriptorSetLayoutCreateInfo,
		BindingCount: uint32(len(binds)),
		PBindings:    binds,
	}, nil, &setLay), "vkCreateDescriptorSetLayout "+k.Info.Name); err != nil {
		return err
	}
	k.setLay = setLay

	lay := &vk.PipelineLayoutCreateInfo{
		SType:          vk.StructureTypePipelineLayoutCreateInfo,
		SetLayoutCount: 1,
		PSetLayouts:    []vk.DescriptorSetLayout{setLay},
	}
	if k.Info.PushSize > 0 {
		lay.PushConstantRangeCount = 1
		lay.PPushConstantRanges = []vk.PushConstantRange{{StageFlags: vk.ShaderStageFlags(vk.ShaderStageComputeBit), Size: k.Info.PushSize}}
	}
	var layout vk.PipelineLayout
	if err := check(vk.CreatePipelineLayout(d.handle, lay, nil, &layout), "vkCreatePipelineLayout "+k.Info.Name); err != nil {
		return err
	}
	k.layout = layout

	stage := vk.PipelineShaderStageCreateInfo{
		SType:  vk.StructureTypePipelineShaderStageCreateInfo,
		Stage:  vk.ShaderStageComputeBit,
		Module: mod,
		PName:  cstr("main"),
	}
	if len(spec) > 0 {
		data := make([]byte, 4*len(spec))
		entries := make([]vk.SpecializationMapEntry, len(spec))
		for i, s := range spec {
			binary.LittleEndian.PutUint32(data[4*i:], s.Value)
			entries[i] = vk.SpecializationMapEntry{ConstantID: s.ID, Offset: uint32(4 * i), Size: 4}
		}
		cdata := cBytes(data)
		defer cFree(cdata)
		stage.PSpecializationInfo = []vk.SpecializationInfo{{
			MapEntryCount: uint32(len(entries)),
			PMapEntries:   entries,
			DataSize:      uint(len(data)),
			PData:         cdata,
		}}
	}
	if k.SubgroupSize != 0 {
		req := requiredSubgroupSizeInfo(k.SubgroupSize)
		defer cFree(req)
		stage.PNext = req
		if k.FullSubgroups {
			stage.Flags = vk.PipelineShaderStageCreateFlags(requireFullSubgroupsBit)
		}
	}
	pipes := make([]vk.Pipeline, 1)
	if err := check(vk.CreateComputePipelines(d.handle, d.cache.handle, 1, []vk.ComputePipelineCreateInfo{{
		SType:  vk.StructureTypeComputePipelineCreateInfo,
		Stage:  stage,
		Layout: layout,
	}}, nil, pipes), "vkCreateComputePipelines "+k.Info.Name); err != nil {
		return err
	}
	k.pipeline = pipes[0]
	return nil
}

func (k *Kernel) destroy() {
	h := k.dev.handle
	if k.pipeline != vk.NullPipeline {
		vk.DestroyPipeline(h, k.pipeline, nil)
	}
	if k.layout != vk.NullPipelineLayout {
		vk.DestroyPipelineLayout(h, k.layout, nil)
	}
	if k.setLay != vk.NullDescriptorSetLayout {
		vk.DestroyDescriptorSetLayout(h, k.setLay, nil)
	}
	if k.module != vk.NullShaderModule {
		vk.DestroyShaderModule(h, k.module, nil)
	}
}

// encodePush turns a push-constant mirror struct (e.g. shaders.SaxpyPush)
// into bytes, checking its size against the kernel's block.
func (k *Kernel) encodePush(push any) ([]byte, error) {
	if push == nil {
		if k.Info.PushSize != 0 {
			return nil, fmt.Errorf("kernel %s needs %d bytes of push constants, got none", k.Info.Name, k.Info.PushSize)
		}
		return nil, nil
	}
	n := binary.Size(push)
	if n < 0 || uint32(n) != k.Info.PushSize {
		return nil, fmt.Errorf("kernel %s: push constants %T are %d bytes, the shader's block is %d", k.Info.Name, push, n, k.Info.PushSize)
	}
	buf := make([]byte, 0, n)
	buf, err := binary.Append(buf, binary.LittleEndian, push)
	if err != nil {
		return nil, fmt.Errorf("kernel %s: encoding push constants: %v", k.Info.Name, err)
	}
	return buf, nil
}
