package optim

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// bindingRange is one range of a group that a kernel binds: elements
// [off, off+n) of every tensor cut with it (the last range of a tensor
// padded to whole vec4s runs to its end).
//
// A group larger than the device's maxStorageBufferRange (the parameters of
// EfficientNetV2-M and -L are 207 and 452 MiB, lavapipe binds 128 MiB) is
// cut into ranges of engine.Device.MaxBindingElements (fewer when the
// device's texel views hold fewer elements: the kernels read through them
// too), each updated by its own dispatch. Every optim kernel is elementwise, so where the cuts fall
// changes no result: a split update is bitwise the whole one.
type bindingRange struct {
	n       int
	tensors []*engine.Tensor
	owned   bool // the tensors are slices made for this range
}

// cutRanges cuts tensors (each of n elements, or n rounded up to a multiple
// of 4) into binding ranges. When n fits one binding, the single range holds
// the tensors themselves.
func cutRanges(d *engine.Device, n int, tensors ...*engine.Tensor) ([]bindingRange, error) {
	per := rangeElements(d)
	if 4*vec4s(n) <= per {
		return []bindingRange{{n: n, tensors: tensors}}, nil
	}
	var out []bindingRange
	for off := 0; off < n; off += per {
		r := bindingRange{n: min(per, n-off), owned: true}
		for _, t := range tensors {
			count := min(per, t.Len()-off)
			s, err := t.Slice(fmt.Sprintf("%s[%d:%d]", t.Name, off, off+count), off, count)
			if err != nil {
				freeRanges(append(out, r))
				return nil, fmt.Errorf("optim: cutting %s into binding ranges: %w", t, err)
			}
			r.tensors = append(r.tensors, s)
		}
		out = append(out, r)
	}
	return out, nil
}

// freeRanges frees the slices cutRanges made.
func freeRanges(rs []bindingRange) {
	for _, r := range rs {
		if r.owned {
			for _, t := range r.tensors {
				t.Free()
			}
		}
	}
}

// rangeElements is the most elements of one binding range on d: what one
// storage-buffer binding holds, and at most what one RGBA32F texel view
// holds (4 per texel), rounded down to the offset alignment.
func rangeElements(d *engine.Device) int {
	per := d.MaxBindingElements(engine.Float32)
	if texels := d.Info.MaxTexelBufferElements; texels > 0 && texels*4 < uint64(per) {
		align := d.OffsetAlignment() / engine.Float32.Size()
		per = int(texels*4) / align * align
	}
	return per
}
