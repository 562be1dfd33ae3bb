package main

import (
	"encoding/binary"
	"fmt"
	"sort"
)

// SPIR-V opcodes, decorations and enums this reflector reads (SPIR-V 1.x spec).
const (
	opName                    = 5
	opMemberName              = 6
	opExecutionMode           = 16
	opTypeInt                 = 21
	opTypeFloat               = 22
	opTypeImage               = 25
	opTypeSampledImage        = 27
	opTypeStruct              = 30
	opTypePointer             = 32
	opConstant                = 43
	opSpecConstant            = 50
	opSpecConstantComposite   = 51
	opVariable                = 59
	opDecorate                = 71
	opMemberDecorate          = 72
	opConstantComposite       = 44
	decorationSpecID          = 1
	decorationBlock           = 2
	decorationBufferBlock     = 3
	decorationBuiltIn         = 11
	decorationNonWritable     = 24
	decorationNonReadable     = 25
	decorationBinding         = 33
	decorationDescriptorSet   = 34
	decorationOffset          = 35
	builtInWorkgroupSize      = 25
	storageUniformConstant    = 0
	storageUniform            = 2
	storagePushConstant       = 9
	storageStorageBuffer      = 12
	executionModeLocalSize    = 17
	dimBuffer                 = 5
	imageFormatRgba32f        = 1
	imageFormatR32f           = 3
	imageFormatR32ui          = 33
	imageFormatRgba32ui       = 30
	spirvMagic                = 0x07230203
	pushMemberScalarByteWidth = 4
)

// binding is one reflected descriptor binding.
type binding struct {
	Binding uint32
	Name    string
	Kind    string // StorageBuffer, UniformTexelBuffer, StorageTexelBuffer
	Access  string // Read, Write, ReadWrite
	Format  string // texel view format: RGBA32F, R32F, R32UI, RGBA32UI ("" for storage buffers)
}

// pushField is one member of the push-constant block.
type pushField struct {
	Name   string
	Offset uint32
	Type   string // uint32, int32, float32
}

// specConstant is one specialization constant.
type specConstant struct {
	ID      uint32
	Name    string
	Default uint32
}

// module is what the index records of one kernel.
type module struct {
	Bindings    []binding
	PushSize    uint32
	Push        []pushField
	LocalSize   [3]uint32
	LocalSpecID [3]int // -1 when the dimension is a literal
	Spec        []specConstant
}

type instruction struct {
	op   uint32
	args []uint32
}

func decodeString(words []uint32) string {
	b := make([]byte, 0, 4*len(words))
	for _, w := range words {
		for i := 0; i < 4; i++ {
			c := byte(w >> (8 * i))
			if c == 0 {
				return string(b)
			}
			b = append(b, c)
		}
	}
	return string(b)
}

// reflectModule reads bindings, push constants, local size and
// specialization constants from a SPIR-V binary.
func reflectModule(code []byte) (*module, error) {
	if len(code)%4 != 0 || len(code) < 20 {
		return nil, fmt.Errorf("spirv: module of %d bytes is not a SPIR-V binary", len(code))
	}
	words := make([]uint32, len(code)/4)
	for i := range words {
		words[i] = binary.LittleEndian.Uint32(code[4*i:])
	}
	if words[0] != spirvMagic {
		return nil, fmt.Errorf("spirv: bad magic %#x", words[0])
	}
	var ins []instruction
	for i := 5; i < len(words); {
		n := int(words[i] >> 16)
		if n == 0 || i+n > len(words) {
			return nil, fmt.Errorf("spirv: malformed instruction at word %d", i)
		}
		ins = append(ins, instruction{op: words[i] & 0xffff, args: words[i+1 : i+n]})
		i += n
	}

	names := map[uint32]string{}
	memberNames := map[[2]uint32]string{}
	decor := map[uint32]map[uint32][]uint32{}
	memberDecor := map[[2]uint32]map[uint32][]uint32{}
	types := map[uint32]instruction{}
	constants := map[uint32]uint32{}
	type variable struct{ typ, storage uint32 }
	variables := map[uint32]variable{}
	var localSize *[3]uint32
	var workgroupComposite []uint32

	for _, in := range ins {
		a := in.args
		switch in.op {
		case opName:
			names[a[0]] = decodeString(a[1:])
		case opMemberName:
			memberNames[[2]uint32{a[0], a[1]}] = decodeString(a[2:])
		case opDecorate:
			if decor[a[0]] == nil {
				decor[a[0]] = map[uint32][]uint32{}
			}
			decor[a[0]][a[1]] = a[2:]
		case opMemberDecorate:
			k := [2]uint32{a[0], a[1]}
			if memberDecor[k] == nil {
				memberDecor[k] = map[uint32][]uint32{}
			}
			memberDecor[k][a[2]] = a[3:]
		case opTypeInt, opTypeFloat, opTypeImage, opTypeSampledImage, opTypeStruct, opTypePointer:
			types[a[0]] = in
		case opConstant, opSpecConstant:
			if len(a) >= 3 {
				constants[a[1]] = a[2]
			}
		case opSpecConstantComposite, opConstantComposite:
			if d, ok := decor[a[1]][decorationBuiltIn]; ok && len(d) > 0 && d[0] == builtInWorkgroupSize {
				workgroupComposite = a[2:]
			}
		case opVariable:
			variables[a[1]] = variable{typ: a[0], storage: a[2]}
		case opExecutionMode:
			if a[1] == executionModeLocalSize && len(a) >= 5 {
				localSize = &[3]uint32{a[2], a[3], a[4]}
			}
		}
	}

	m := &module{LocalSpecID: [3]int{-1, -1, -1}}
	if localSize != nil {
		m.LocalSize = *localSize
	}
	if len(workgroupComposite) == 3 {
		for d, id := range workgroupComposite {
			m.LocalSize[d] = constants[id]
			if s, ok := decor[id][decorationSpecID]; ok {
				m.LocalSpecID[d] = int(s[0])
			}
		}
	}
	if m.LocalSize == [3]uint32{} {
		return nil, fmt.Errorf("spirv: no local size found")
	}
	for id, d := range decor {
		if s, ok := d[decorationSpecID]; ok {
			m.Spec = append(m.Spec, specConstant{ID: s[0], Name: names[id], Default: constants[id]})
		}
	}
	// Several constants may share an ID (local_size_x_id plus a named
	// constant_id): order fully so the index is the same on every run.
	sort.Slice(m.Spec, func(i, j int) bool {
		a, b := m.Spec[i], m.Spec[j]
		if a.ID != b.ID {
			return a.ID < b.ID
		}
		if a.Name != b.Name {
			return a.Name < b.Name
		}
		return a.Default < b.Default
	})

	for id, v := range variables {
		ptr, ok := types[v.typ]
		if !ok || ptr.op != opTypePointer {
			continue
		}
		pointee := ptr.args[2]
		switch v.storage {
		case storagePushConstant:
			st := types[pointee]
			if st.op != opTypeStruct {
				return nil, fmt.Errorf("spirv: push constant block is not a struct")
			}
			for mi, mt := range st.args[1:] {
				t := types[mt]
				var typ string
				switch {
				case t.op == opTypeInt && t.args[1] == 32 && t.args[2] == 0:
					typ = "uint32"
				case t.op == opTypeInt && t.args[1] == 32 && t.args[2] == 1:
					typ = "int32"
				case t.op == opTypeFloat && t.args[1] == 32:
					typ = "float32"
				default:
					return nil, fmt.Errorf("spirv: push constant member %d must be a 32-bit scalar (uint, int, float)", mi)
				}
				k := [2]uint32{pointee, uint32(mi)}
				off, ok := memberDecor[k][decorationOffset]
				if !ok {
					return nil, fmt.Errorf("spirv: push constant member %d has no offset", mi)
				}
				m.Push = append(m.Push, pushField{Name: memberNames[k], Offset: off[0], Type: typ})
				if end := off[0] + pushMemberScalarByteWidth; end > m.PushSize {
					m.PushSize = end
				}
			}
		case storageUniformConstant, storageUniform, storageStorageBuffer:
			bd, ok := decor[id][decorationBinding]
			if !ok {
				continue
			}
			if set := decor[id][decorationDescriptorSet]; len(set) > 0 && set[0] != 0 {
				return nil, fmt.Errorf("spirv: binding %d uses descriptor set %d; only set 0 is supported", bd[0], set[0])
			}
			b := binding{Binding: bd[0]}
			t := types[pointee]
			switch {
			case t.op == opTypeStruct:
				b.Kind = "StorageBuffer"
				if v.storage == storageUniform && decor[pointee][decorationBufferBlock] == nil {
					return nil, fmt.Errorf("spirv: binding %d is a uniform buffer; use storage buffers", bd[0])
				}
				b.Name = names[pointee]
				readable, writable := true, true
				for mi := range t.args[1:] {
					md := memberDecor[[2]uint32{pointee, uint32(mi)}]
					if _, ok := md[decorationNonWritable]; ok {
						writable = false
					}
					if _, ok := md[decorationNonReadable]; ok {
						readable = false
					}
				}
				b.Access = access(readable, writable)
			case t.op == opTypeSampledImage || t.op == opTypeImage:
				img := t
				if t.op == opTypeSampledImage {
					img = types[t.args[1]]
				}
				if img.op != opTypeImage || img.args[2] != dimBuffer {
					return nil, fmt.Errorf("spirv: binding %d: only buffer images (texel buffers) are supported", bd[0])
				}
				b.Name = names[id]
				sampled := img.args[6]
				if sampled == 1 {
					b.Kind = "UniformTexelBuffer"
					b.Access = "Read"
					b.Format = "RGBA32F"
				} else {
					b.Kind = "StorageTexelBuffer"
					_, nw := decor[id][decorationNonWritable]
					_, nr := decor[id][decorationNonReadable]
					b.Access = access(!nr, !nw)
					switch img.args[7] {
					case imageFormatRgba32f:
						b.Format = "RGBA32F"
					case imageFormatR32f:
						b.Format = "R32F"
					case imageFormatR32ui:
						b.Format = "R32UI"
					case imageFormatRgba32ui:
						b.Format = "RGBA32UI"
					default:
						return nil, fmt.Errorf("spirv: binding %d: storage texel format %d not supported (use rgba32f, r32f, r32ui, rgba32ui)", bd[0], img.args[7])
					}
				}
			default:
				return nil, fmt.Errorf("spirv: binding %d has an unsupported descriptor type", bd[0])
			}
			m.Bindings = append(m.Bindings, b)
		}
	}
	sort.Slice(m.Bindings, func(i, j int) bool { return m.Bindings[i].Binding < m.Bindings[j].Binding })
	for i, b := range m.Bindings {
		if b.Binding != uint32(i) {
			return nil, fmt.Errorf("spirv: bindings must be numbered 0..n-1 without gaps; found %d at position %d", b.Binding, i)
		}
	}
	sort.Slice(m.Push, func(i, j int) bool { return m.Push[i].Offset < m.Push[j].Offset })
	return m, nil
}

func access(readable, writable bool) string {
	switch {
	case readable && writable:
		return "ReadWrite"
	case writable:
		return "Write"
	default:
		return "Read"
	}
}
