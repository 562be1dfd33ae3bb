package optim

import "github.com/effv2vk/effv2vk/engine"

// launch is how the elementwise kernels of optim.comp spread a group over
// invocations: local invocations per workgroup, each handling items vec4s
// strided by local (specialization constants 0 and 1).
type launch struct{ local, items int }

// elementwise is the launch every optim kernel uses: on lavapipe 4 vec4s per
// invocation ran ~1.3x faster than 1.
var elementwise = launch{local: 64, items: 4}

// kernel returns the named optim kernel specialized for l.
func (l launch) kernel(s *engine.Sequence, name string) *engine.Kernel {
	return s.Kernel(name, engine.Spec{ID: 0, Value: uint32(l.local)}, engine.Spec{ID: 1, Value: uint32(l.items)})
}

// dispatch records k over a group of n elements.
func (l launch) dispatch(s *engine.Sequence, k *engine.Kernel, n int, push any, args ...*engine.Tensor) {
	s.Dispatch1D(k, (vec4s(n)+l.items-1)/l.items, push, args...)
}
