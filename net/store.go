package net

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net/arch"
)

// Param is one state_dict entry placed in the store.
type Param struct {
	arch.Param
	Offset int            // element offset in its arena (Store.Params or Store.Stats)
	Value  *engine.Tensor // view of the value; nil for num_batches_tracked
	Grad   *engine.Tensor // view of the gradient; nil for buffers
}

// Store holds every parameter and buffer of a model on the device. The
// trainable parameters live in one flat tensor, weight-decayed ones first
// ([0, DecayLen)), then the exempt ones (biases, BN gamma/beta), so an
// optimizer updates each group with one dispatch. Grads has the same layout.
type Store struct {
	Table    []*Param // torchvision state_dict order
	Params   *engine.Tensor
	Grads    *engine.Tensor
	Stats    *engine.Tensor // BN running means and variances
	DecayLen int            // elements of Params that get weight decay
	// BatchesTracked is num_batches_tracked, shared by every BN layer (they
	// are all updated by each training step).
	BatchesTracked int64
	// Align is the element alignment of every entry's offset (from the
	// device): the flat layout depends on it.
	Align int

	byName map[string]*Param
}

// NewStore lays out cfg's parameters on d, with values from InitHost(seed).
func NewStore(d *engine.Device, cfg arch.Config, seed uint64) (*Store, error) {
	lay := NewLayout(cfg, d.OffsetAlignment()/4)
	st := &Store{byName: map[string]*Param{}, Align: lay.Align}
	for _, p := range cfg.Params() {
		q := &Param{Param: p, Offset: lay.Offsets[p.Name]}
		st.Table = append(st.Table, q)
		st.byName[p.Name] = q
	}
	st.DecayLen = lay.DecayLen
	total, statLen := lay.ParamsLen, lay.StatsLen
	var err error
	if st.Params, err = d.NewTensor("params", engine.Float32, total); err != nil {
		return nil, fmt.Errorf("net: parameters of %s: %w", cfg.Name, err)
	}
	if st.Grads, err = d.NewTensor("grads", engine.Float32, total); err != nil {
		st.Free()
		return nil, fmt.Errorf("net: gradients of %s: %w", cfg.Name, err)
	}
	if st.Stats, err = d.NewTensor("bn-stats", engine.Float32, statLen); err != nil {
		st.Free()
		return nil, fmt.Errorf("net: BN statistics of %s: %w", cfg.Name, err)
	}
	for _, p := range st.Table {
		if p.Role == arch.BNBatchesTracked {
			continue
		}
		arena := st.Params
		if !p.Trainable {
			arena = st.Stats
		}
		if p.Value, err = arena.Slice(p.Name, p.Offset, p.Shape...); err != nil {
			st.Free()
			return nil, err
		}
		if p.Trainable {
			if p.Grad, err = st.Grads.Slice("grad/"+p.Name, p.Offset, p.Shape...); err != nil {
				st.Free()
				return nil, err
			}
		}
	}
	// Zero the gradients once: alignment gaps between parameters are never
	// written by a kernel and must not hold garbage that a norm would read.
	if err := st.Grads.Upload(make([]float32, total)); err != nil {
		st.Free()
		return nil, err
	}
	if err := st.Load(InitHost(cfg, seed)); err != nil {
		st.Free()
		return nil, err
	}
	return st, nil
}

// Get returns the parameter or buffer with the torchvision name, or nil.
func (st *Store) Get(name string) *Param { return st.byName[name] }

// Free releases the store's tensors.
func (st *Store) Free() {
	for _, p := range st.Table {
		p.Value.Free()
		p.Grad.Free()
	}
	st.Params.Free()
	st.Grads.Free()
	st.Stats.Free()
}

// Load uploads values (torchvision names, float32; num_batches_tracked as a
// one-element slice) for every entry of the table. The map must hold every
// entry; see Import for a checked load from a file.
func (st *Store) Load(values map[string][]float32) error {
	params := make([]float32, st.Params.Len())
	stats := make([]float32, st.Stats.Len())
	for _, p := range st.Table {
		v, ok := values[p.Name]
		if !ok {
			return fmt.Errorf("net: no value for %s", p.Name)
		}
		if len(v) != p.Elements() {
			return fmt.Errorf("net: %s has %d values, want %d (shape %v)", p.Name, len(v), p.Elements(), p.Shape)
		}
		switch {
		case p.Role == arch.BNBatchesTracked:
			st.BatchesTracked = int64(v[0])
		case p.Trainable:
			copy(params[p.Offset:], v)
		default:
			copy(stats[p.Offset:], v)
		}
	}
	if err := st.Params.Upload(params); err != nil {
		return err
	}
	return st.Stats.Upload(stats)
}

// Snapshot downloads every parameter and buffer by name.
func (st *Store) Snapshot() (map[string][]float32, error) {
	params, err := st.Params.Floats()
	if err != nil {
		return nil, err
	}
	stats, err := st.Stats.Floats()
	if err != nil {
		return nil, err
	}
	out := make(map[string][]float32, len(st.Table))
	for _, p := range st.Table {
		switch {
		case p.Role == arch.BNBatchesTracked:
			out[p.Name] = []float32{float32(st.BatchesTracked)}
		case p.Trainable:
			out[p.Name] = append([]float32(nil), params[p.Offset:p.Offset+p.Elements()]...)
		default:
			out[p.Name] = append([]float32(nil), stats[p.Offset:p.Offset+p.Elements()]...)
		}
	}
	return out, nil
}

// Gradients downloads every trainable parameter's gradient by name.
func (st *Store) Gradients() (map[string][]float32, error) {
	grads, err := st.Grads.Floats()
	if err != nil {
		return nil, err
	}
	out := map[string][]float32{}
	for _, p := range st.Table {
		if p.Trainable {
			out[p.Name] = append([]float32(nil), grads[p.Offset:p.Offset+p.Elements()]...)
		}
	}
	return out, nil
}

// InitHost returns torchvision's initialization of cfg, deterministic in
// seed: conv weights (SE convs included) kaiming-normal with fan_out, BN
// gamma 1 and beta 0, running mean 0 and var 1, the classifier uniform in
// ±1/sqrt(classes), biases 0.
func InitHost(cfg arch.Config, seed uint64) map[string][]float32 {
	r := rand.New(rand.NewPCG(seed, 0xeff2))
	out := map[string][]float32{}
	for _, p := range cfg.Params() {
		v := make([]float32, p.Elements())
		switch p.Role {
		case arch.ConvWeight:
			fanOut := p.Shape[0] * p.Shape[2] * p.Shape[3]
			std := math.Sqrt(2 / float64(fanOut))
			for i := range v {
				v[i] = float32(r.NormFloat64() * std)
			}
		case arch.LinearWeight:
			bound := 1 / math.Sqrt(float64(p.Shape[0]))
			for i := range v {
				v[i] = float32((2*r.Float64() - 1) * bound)
			}
		case arch.BNWeight, arch.BNRunningVar:
			for i := range v {
				v[i] = 1
			}
		}
		out[p.Name] = v
	}
	return out
}

// Layout is where each state_dict entry lives in a store's flat tensors:
// trainable parameters in Params (weight-decayed ones first, then the
// exempt ones from an aligned offset), BN running statistics in Stats, each
// entry at a multiple of Align elements.
type Layout struct {
	Align    int
	Offsets  map[string]int // element offset in Params or Stats
	DecayLen int            // Params elements of the weight-decay group
	// ExemptStart is where the exempt group begins in Params (DecayLen
	// rounded up to Align).
	ExemptStart int
	ParamsLen   int
	StatsLen    int
}

// NewLayout places cfg's entries with offsets aligned to align elements.
func NewLayout(cfg arch.Config, align int) Layout {
	if align < 1 {
		align = 1
	}
	lay := Layout{Align: align, Offsets: map[string]int{}}
	var decay, exempt, stats []arch.Param
	for _, p := range cfg.Params() {
		switch {
		case p.Role == arch.BNBatchesTracked:
		case !p.Trainable:
			stats = append(stats, p)
		case p.NoWeightDecay:
			exempt = append(exempt, p)
		default:
			decay = append(decay, p)
		}
	}
	up := func(x int) int { return (x + align - 1) / align * align }
	place := func(ps []arch.Param, at int) int {
		for _, p := range ps {
			at = up(at)
			lay.Offsets[p.Name] = at
			at += p.Elements()
		}
		return at
	}
	lay.DecayLen = place(decay, 0)
	lay.ExemptStart = up(lay.DecayLen)
	lay.ParamsLen = place(exempt, lay.ExemptStart)
	lay.StatsLen = place(stats, 0)
	return lay
}

// Unflatten cuts flat params and stats arrays laid out by lay into named
// values (num_batches_tracked is left out).
func (lay Layout) Unflatten(cfg arch.Config, params, stats []float32) (map[string][]float32, error) {
	if len(params) < lay.ParamsLen || len(stats) < lay.StatsLen {
		return nil, fmt.Errorf("net: flat arrays of %d and %d values do not fit the layout (%d and %d)", len(params), len(stats), lay.ParamsLen, lay.StatsLen)
	}
	out := map[string][]float32{}
	for _, p := range cfg.Params() {
		off, ok := lay.Offsets[p.Name]
		if !ok {
			continue
		}
		src := params
		if !p.Trainable {
			src = stats
		}
		out[p.Name] = append([]float32(nil), src[off:off+p.Elements()]...)
	}
	return out, nil
}
