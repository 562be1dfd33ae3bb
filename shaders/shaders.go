package shaders

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

//go:embed spv/*.spv
var spvFiles embed.FS

// BindingKind is the descriptor type of a binding.
type BindingKind int

// Descriptor types a kernel may use.
const (
	StorageBuffer BindingKind = iota
	UniformTexelBuffer
	StorageTexelBuffer
)

func (k BindingKind) String() string {
	switch k {
	case StorageBuffer:
		return "storage buffer"
	case UniformTexelBuffer:
		return "uniform texel buffer"
	case StorageTexelBuffer:
		return "storage texel buffer"
	}
	return fmt.Sprintf("BindingKind(%d)", int(k))
}

// Access says whether a kernel reads, writes or does both to a binding.
type Access int

// Access modes, from the GLSL readonly/writeonly qualifiers.
const (
	Read Access = 1 << iota
	Write
	ReadWrite = Read | Write
)

func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	case ReadWrite:
		return "read-write"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// Binding is one descriptor binding of a kernel.
type Binding struct {
	Binding uint32
	Name    string // block type name (buffers) or variable name (texel buffers)
	Kind    BindingKind
	Access  Access
	Format  string // texel view format (RGBA32F, R32F, R32UI, RGBA32UI); "" for storage buffers
}

// PushField is one 32-bit member of a kernel's push-constant block.
type PushField struct {
	Name   string
	Offset uint32
	Type   string // uint32, int32 or float32
}

// SpecConstant is a specialization constant of a kernel.
type SpecConstant struct {
	ID      uint32
	Name    string
	Default uint32
}

// Kernel describes one compiled compute kernel.
type Kernel struct {
	Name            string
	File            string   // the .comp source it is compiled from
	Defines         []string // the -D defines of this variant
	LocalSize       [3]uint32
	LocalSizeSpecID [3]int // spec constant ID of each local size dimension, -1 when literal
	Bindings        []Binding
	PushSize        uint32
	Push            []PushField
	Spec            []SpecConstant
}

// SPIRV returns the kernel's optimized SPIR-V.
func (k *Kernel) SPIRV() ([]byte, error) {
	b, err := spvFiles.ReadFile("spv/" + k.Name + ".spv")
	if err != nil {
		return nil, fmt.Errorf("shaders: SPIR-V of kernel %s missing: run `go generate ./shaders`", k.Name)
	}
	return b, nil
}

var byName = func() map[string]*Kernel {
	m := make(map[string]*Kernel, len(generatedKernels))
	for i := range generatedKernels {
		m[generatedKernels[i].Name] = &generatedKernels[i]
	}
	return m
}()

// Lookup returns the kernel with the given name.
func Lookup(name string) (*Kernel, error) {
	if k, ok := byName[name]; ok {
		return k, nil
	}
	return nil, fmt.Errorf("shaders: unknown kernel %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Names lists every kernel name, sorted.
func Names() []string {
	out := make([]string, 0, len(byName))
	for n := range byName {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}
