package train

import (
	"fmt"

	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
)

// With --freeze, the optimizer's two groups start after their frozen
// prefix (see parameterGroups): its state mirrors only the trainable part
// of each group. realignFrozen moves such state between alignments.

// frozenRegionEntries is regionEntries for a run with frozen leading
// feature modules: the optimizer groups' regions begin at their first
// trainable entry (the EMA regions are whole).
func frozenRegionEntries(cfg arch.Config, lay net.Layout, r stateRegion, frozen int) (map[string]int, int) {
	offsets, length := regionEntries(cfg, lay, r)
	if frozen == 0 || (r != regionDecay && r != regionExempt) {
		return offsets, length
	}
	start := length // a group left with nothing to train
	for _, p := range cfg.Params() {
		off, ok := offsets[p.Name]
		if ok && !net.IsFrozen(p.Name, frozen) {
			start = min(start, off)
		}
	}
	out := map[string]int{}
	for name, off := range offsets {
		if !net.IsFrozen(name, frozen) {
			out[name] = off - start
		}
	}
	return out, length - start
}

// realignFrozen is realign for state of a run with frozen leading feature
// modules.
func realignFrozen(cfg arch.Config, name string, v []float32, from, to net.Layout, frozen int) ([]float32, error) {
	if frozen == 0 {
		return realign(cfg, name, v, from, to)
	}
	r, err := regionOf(name)
	if err != nil {
		return nil, err
	}
	fromOff, fromLen := frozenRegionEntries(cfg, from, r, frozen)
	toOff, toLen := frozenRegionEntries(cfg, to, r, frozen)
	if len(v) != fromLen {
		return nil, fmt.Errorf("train: checkpoint state %s has %d values, its layout (alignment %d, --freeze %d) needs %d", name, len(v), from.Align, frozen, fromLen)
	}
	return moveEntries(cfg, v, fromOff, toOff, toLen), nil
}
