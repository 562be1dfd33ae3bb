package optim

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// launch is how the elementwise kernels of optim.comp spread a range over
// invocations: local invocations per workgroup, each handling items vec4s
// strided by local, reading what they also write through texel views
// (texelReads) or storage buffers (specialization constants 0, 1 and 2).
// Every launch computes bitwise the same update: only the order in which
// invocations visit the vec4s and the path of the loads differ.
type launch struct {
	local, items int
	texelReads   bool
}

// name is the launch's variant name for the tuner, e.g. "texel_8x16".
func (l launch) name() string {
	reads := "storage"
	if l.texelReads {
		reads = "texel"
	}
	return fmt.Sprintf("%s_%dx%d", reads, l.local, l.items)
}

// kernel returns the named optim kernel specialized for l.
func (l launch) kernel(s *engine.Sequence, name string) *engine.Kernel {
	texel := uint32(0)
	if l.texelReads {
		texel = 1
	}
	return s.Kernel(name, engine.Spec{ID: 0, Value: uint32(l.local)}, engine.Spec{ID: 1, Value: uint32(l.items)}, engine.Spec{ID: 2, Value: texel})
}

// dispatch records k over a range of n elements.
func (l launch) dispatch(s *engine.Sequence, k *engine.Kernel, n int, push any, args ...*engine.Tensor) {
	s.Dispatch1D(k, (vec4s(n)+l.items-1)/l.items, push, args...)
}
