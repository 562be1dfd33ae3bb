package net

import (
	"fmt"
	"math"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/ops"
)

// SyncBN makes batch norm in training use the statistics of the global
// batch of a data-parallel job (cross-replica batch norm, PyTorch's
// SyncBatchNorm): every rank records its slice (GraphConfig.Batch images)
// and the graph averages, through the host, the per-channel statistics
// after each batch norm's forward and the per-channel gradient sums after
// each batch norm's backward. That is two host round trips per batch norm
// layer and step (engine.Sequence.HostCall).
type SyncBN struct {
	// Ranks is the number of ranks, each with an equal slice.
	Ranks int
	// Average replaces v on every rank with the element-wise mean of all
	// ranks' v.
	Average func(v []float64) error
}

// bnSync holds a batch norm's tensors for the cross-rank correction of its
// input gradient.
type bnSync struct {
	cfg          *SyncBN
	scale, shift *engine.Tensor // [C] correction: dz += scale*z + shift
	zero, one    *engine.Tensor // [C] constants, to apply it with BatchNormForward
}

// newBNSync allocates a batch norm's sync tensors (nil without SyncBN).
func (b *builder) newBNSync(name string, c int) *bnSync {
	if b.sync == nil {
		return nil
	}
	bs := &bnSync{cfg: b.sync,
		scale: b.tensor(name+".sync.scale", c), shift: b.tensor(name+".sync.shift", c),
		zero: b.tensor(name+".sync.zero", c), one: b.tensor(name+".sync.one", c)}
	if b.err != nil || b.dev.Planning() { // a memory plan holds no values
		return bs
	}
	ones := make([]float32, c)
	for i := range ones {
		ones[i] = 1
	}
	if err := bs.zero.Upload(make([]float32, c)); err != nil {
		b.err = err
	}
	if err := bs.one.Upload(ones); err != nil {
		b.err = err
	}
	return bs
}

// syncStats records, after BatchNormStats, the replacement of this rank's
// batch mean and invstd by the global batch's: with equal slices, the
// global mean is the mean of the ranks' means and the global (biased)
// variance the mean of the ranks' variances plus the variance of their
// means, computed in float64.
func (c *convBN) syncStats(s *engine.Sequence, eps float32) {
	s.HostCall(func() error {
		mean, err := c.mean.Floats()
		if err != nil {
			return err
		}
		invstd, err := c.invstd.Floats()
		if err != nil {
			return err
		}
		n := len(mean)
		v := make([]float64, 3*n) // mean, variance, mean^2
		for i := range mean {
			m, is := float64(mean[i]), float64(invstd[i])
			v[i], v[n+i], v[2*n+i] = m, max(1/(is*is)-float64(eps), 0), m*m
		}
		if err := c.sync.cfg.Average(v); err != nil {
			return fmt.Errorf("net: sync batch norm %s: %w", c.name, err)
		}
		for i := range mean {
			m := v[i]
			variance := max(v[n+i]+v[2*n+i]-m*m, 0)
			mean[i], invstd[i] = float32(m), float32(1/math.Sqrt(variance+float64(eps)))
		}
		if err := c.mean.Upload(mean); err != nil {
			return err
		}
		return c.invstd.Upload(invstd)
	})
}

// syncBackward corrects dz, computed by BatchNormBackward with this rank's
// sums, to the global batch's sums, and returns the corrected gradient
// (dz is released). With m values per channel on this rank, sums sb (of
// dz) and sg (of dz*xhat), and Sb, Sg their means over ranks:
//
//	dz_global = dz + gamma*invstd*((sb - Sb) + xhat*(sg - Sg)) / m
//	          = dz + scale*z + shift, xhat = (z - mean)*invstd
//
// The parameter gradients (sb, sg) stay this rank's: the gradient
// all-reduce averages them like every other.
func (c *convBN) syncBackward(s *engine.Sequence, b *builder, dz *engine.Tensor) *engine.Tensor {
	m := float64(c.z.Shape[0] * c.z.Shape[2] * c.z.Shape[3])
	bs := c.sync
	s.HostCall(func() error {
		var vals [5][]float32 // sb, sg, gamma, mean, invstd
		for i, t := range []*engine.Tensor{c.beta.Grad, c.gamma.Grad, c.gamma.Value, c.mean, c.invstd} {
			v, err := t.Floats()
			if err != nil {
				return err
			}
			vals[i] = v
		}
		sb, sg, gamma, mean, invstd := vals[0], vals[1], vals[2], vals[3], vals[4]
		n := len(sb)
		v := make([]float64, 2*n)
		for i := range sb {
			v[i], v[n+i] = float64(sb[i]), float64(sg[i])
		}
		if err := bs.cfg.Average(v); err != nil {
			return fmt.Errorf("net: sync batch norm %s backward: %w", c.name, err)
		}
		scale, shift := make([]float32, n), make([]float32, n)
		for i := range sb {
			gi := float64(gamma[i]) * float64(invstd[i])
			k := gi * float64(invstd[i]) * (float64(sg[i]) - v[n+i]) / m
			scale[i] = float32(k)
			shift[i] = float32(gi*(float64(sb[i])-v[i])/m - k*float64(mean[i]))
		}
		if err := bs.scale.Upload(scale); err != nil {
			return err
		}
		return bs.shift.Upload(shift)
	})
	corr := b.grad(c.name+".sync", c.z.Shape...)
	ops.BatchNormForward(s, corr, c.z, bs.zero, bs.one, bs.scale, bs.shift, ops.ActNone)
	sum := b.grad(c.name+".dz synced", c.z.Shape...)
	ops.Add(s, sum, dz, corr)
	b.release(dz, corr)
	return sum
}
