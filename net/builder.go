package net

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// mode is what a recording does with batch norm.
type mode struct {
	train         bool    // batch statistics (else running statistics)
	updateRunning bool    // update running statistics (train only)
	eps, momentum float32 // BN settings
}

// builder allocates a graph's tensors, keeping the first error (sticky, like
// engine.Sequence) so layer constructors stay one call per line.
type builder struct {
	dev      *engine.Device
	store    *Store
	backward bool
	owned    []*engine.Tensor
	err      error
}

// tensor allocates a float32 tensor owned by the graph.
func (b *builder) tensor(name string, shape ...int) *engine.Tensor {
	return b.typed(name, engine.Float32, shape...)
}

func (b *builder) typed(name string, dt engine.DType, shape ...int) *engine.Tensor {
	if b.err != nil {
		return nil
	}
	t, err := b.dev.NewTensor(name, dt, shape...)
	if err != nil {
		b.err = fmt.Errorf("net: %w", err)
		return nil
	}
	b.owned = append(b.owned, t)
	return t
}

// param returns a store entry by torchvision name.
func (b *builder) param(name string) (*Param, error) {
	p := b.store.Get(name)
	if p == nil {
		return nil, fmt.Errorf("net: parameter %s missing from the store", name)
	}
	return p, nil
}

func (b *builder) free() {
	for i := len(b.owned) - 1; i >= 0; i-- {
		b.owned[i].Free()
	}
	b.owned = nil
}
