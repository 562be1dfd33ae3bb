package net

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/ops"
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
	sync     *SyncBN // cross-rank batch norm, training graphs only
	fusion   fusion  // which passes are folded into their neighbours
	owned    []*engine.Tensor
	scratch  []*ops.Conv2DWeightScratch // freed with owned
	err      error
	// grads is the backward pass's memory plan: a gradient lives from the
	// dispatch that writes it to the last that reads it; after that its
	// buffer serves the next gradient of the same shape (the sequence's
	// barriers order the reuse).
	grads tensorPool
	// acts is the forward-only graph's plan (nothing is saved for a
	// backward pass): an activation's buffer serves a later one once the
	// layers that read it are built. Layers are built in the order they are
	// recorded, so every reader of a released tensor is recorded before any
	// writer of its next user.
	acts tensorPool
}

// tensorPool holds released tensors by shape, and counts the tensors asked
// for and the buffers allocated for them.
type tensorPool struct {
	free              map[string][]*engine.Tensor
	requests, buffers int
}

func shapeKey(shape []int) string { return fmt.Sprint(shape) }

// take returns a released tensor of the shape, or one that alloc makes.
func (p *tensorPool) take(shape []int, alloc func() *engine.Tensor) *engine.Tensor {
	p.requests++
	k := shapeKey(shape)
	if ts := p.free[k]; len(ts) > 0 {
		t := ts[len(ts)-1]
		p.free[k] = ts[:len(ts)-1]
		return t
	}
	p.buffers++
	return alloc()
}

// put releases tensors (nil ones are skipped) for later takes.
func (p *tensorPool) put(ts ...*engine.Tensor) {
	if p.free == nil {
		p.free = map[string][]*engine.Tensor{}
	}
	for _, t := range ts {
		if t != nil {
			k := shapeKey(t.Shape)
			p.free[k] = append(p.free[k], t)
		}
	}
}

// act returns an activation tensor of the shape: in a forward-only graph a
// released one when there is one, else a new one.
func (b *builder) act(name string, shape ...int) *engine.Tensor {
	return b.acts.take(shape, func() *engine.Tensor { return b.tensor(name, shape...) })
}

// done releases activations whose last reader has been built, in a
// forward-only graph (a backward pass reads them all again: there it does
// nothing). Call it only after the reader's own outputs are allocated, so
// that no dispatch reads and writes one buffer.
func (b *builder) done(ts ...*engine.Tensor) {
	if !b.backward {
		b.acts.put(ts...)
	}
}

// grad returns a gradient tensor of the shape: a released one when there
// is one, else a new one.
func (b *builder) grad(name string, shape ...int) *engine.Tensor {
	return b.grads.take(shape, func() *engine.Tensor { return b.tensor("grad "+name, shape...) })
}

// release hands gradient tensors back for reuse once the last dispatch
// that reads them has been recorded.
func (b *builder) release(ts ...*engine.Tensor) { b.grads.put(ts...) }

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

// weightScratch allocates the partial sums of a chunked weight gradient
// of the convolution name (input shape x, weight shape w), owned by the
// graph.
func (b *builder) weightScratch(name string, x, w []int, stride int) *ops.Conv2DWeightScratch {
	if b.err != nil {
		return nil
	}
	sc, err := ops.PlanConv2DWeightGradient(b.dev, x, w, stride)
	if err != nil {
		b.err = fmt.Errorf("net: %s: %w", name, err)
		return nil
	}
	b.scratch = append(b.scratch, sc)
	return sc
}

func (b *builder) free() {
	for i := len(b.scratch) - 1; i >= 0; i-- {
		b.scratch[i].Free()
	}
	b.scratch = nil
	for i := len(b.owned) - 1; i >= 0; i-- {
		b.owned[i].Free()
	}
	b.owned = nil
}
