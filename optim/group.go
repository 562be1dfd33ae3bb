package optim

import (
	"fmt"
	"math"

	"github.com/effv2vk/effv2vk/engine"
)

// Group is one flat range of parameters updated together: Params and Grads
// have the same length (typically equal slices of net.Store's Params and
// Grads), and WeightDecay applies to every element (0 for biases and
// batch-norm gamma/beta).
type Group struct {
	Params, Grads *engine.Tensor
	WeightDecay   float32
}

// checkGroups reports the first group an optimizer cannot update.
func checkGroups(who string, groups []Group) error {
	if len(groups) == 0 {
		return fmt.Errorf("optim: %s: no parameter groups; pass at least one Group (see SplitDecay)", who)
	}
	for i, g := range groups {
		if g.Params == nil || g.Grads == nil {
			return fmt.Errorf("optim: %s: group %d has a nil Params or Grads tensor", who, i)
		}
		if g.Params.DType != engine.Float32 || g.Grads.DType != engine.Float32 {
			return fmt.Errorf("optim: %s: group %d: params %s and grads %s must both be float32", who, i, g.Params, g.Grads)
		}
		if g.Params.Len() != g.Grads.Len() {
			return fmt.Errorf("optim: %s: group %d: params %s has %d elements but grads %s has %d; pass equal-length slices of the parameter and gradient tensors",
				who, i, g.Params, g.Params.Len(), g.Grads, g.Grads.Len())
		}
		wd := float64(g.WeightDecay)
		if math.IsNaN(wd) || math.IsInf(wd, 0) || wd < 0 {
			return fmt.Errorf("optim: %s: group %d: weight decay %v must be a finite value >= 0", who, i, g.WeightDecay)
		}
	}
	return nil
}

// SplitDecay cuts flat parameter and gradient tensors laid out as net.Store
// lays them out into two groups: [0, decayLen) with weightDecay, and the
// exempt rest from the first offset at or after decayLen that the device
// d accepts for a slice (OffsetAlignment), with no decay. A group that would
// be empty is left out. The groups hold new slices of params and grads;
// free them with FreeGroups after the optimizer.
func SplitDecay(d *engine.Device, params, grads *engine.Tensor, decayLen int, weightDecay float32) ([]Group, error) {
	if d == nil || params == nil || grads == nil {
		return nil, fmt.Errorf("optim: SplitDecay: nil device, params or grads")
	}
	n := params.Len()
	if grads.Len() != n {
		return nil, fmt.Errorf("optim: SplitDecay: params %s has %d elements but grads %s has %d", params, n, grads, grads.Len())
	}
	if decayLen < 0 || decayLen > n {
		return nil, fmt.Errorf("optim: SplitDecay: decay length %d is outside [0, %d] (the length of %s)", decayLen, n, params)
	}
	align := d.OffsetAlignment() / params.DType.Size()
	exempt := (decayLen + align - 1) / align * align
	var groups []Group
	add := func(name string, off, count int, wd float32) error {
		if count <= 0 {
			return nil
		}
		p, err := params.Slice(params.Name+"/"+name, off, count)
		if err != nil {
			return fmt.Errorf("optim: SplitDecay: %w", err)
		}
		g, err := grads.Slice(grads.Name+"/"+name, off, count)
		if err != nil {
			p.Free()
			return fmt.Errorf("optim: SplitDecay: %w", err)
		}
		groups = append(groups, Group{Params: p, Grads: g, WeightDecay: wd})
		return nil
	}
	if err := add("decay", 0, decayLen, weightDecay); err != nil {
		return nil, err
	}
	if err := add("exempt", exempt, n-exempt, 0); err != nil {
		FreeGroups(groups)
		return nil, err
	}
	return groups, nil
}

// FreeGroups frees the slices SplitDecay made.
func FreeGroups(groups []Group) {
	for _, g := range groups {
		g.Params.Free()
		g.Grads.Free()
	}
}
