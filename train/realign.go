package train

import (
	"fmt"
	"strings"

	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
)

// The optimizer and EMA state are flat tensors laid out like the model's
// parameters (net.Layout): every entry at a multiple of the device's buffer
// alignment. A checkpoint made on a device with another alignment has its
// entries at other offsets; realign moves each entry to where this
// device's layout puts it, so that a run moves between GPUs.

// stateRegion says which part of the flat layout a state tensor mirrors,
// from its checkpoint name.
type stateRegion int

const (
	regionDecay  stateRegion = iota // optimizer group 0: weight-decayed parameters
	regionExempt                    // optimizer group 1: the exempt ones
	regionParams                    // every trainable parameter (EMA)
	regionStats                     // BN running statistics (EMA)
)

func regionOf(name string) (stateRegion, error) {
	switch {
	case strings.Contains(name, "/group0/"):
		return regionDecay, nil
	case strings.Contains(name, "/group1/"):
		return regionExempt, nil
	case name == "ema/params":
		return regionParams, nil
	case name == "ema/stats":
		return regionStats, nil
	}
	return 0, fmt.Errorf("train: checkpoint state %s: unknown layout, cannot realign it", name)
}

// regionEntries returns the entries of region r in layout lay with their
// offsets relative to the region's start, and the region's length. Which
// entries a region holds follows from the layout: trainable parameters live
// in Params (the decay group below DecayLen, the exempt one from
// ExemptStart), BN statistics in Stats.
func regionEntries(cfg arch.Config, lay net.Layout, r stateRegion) (offsets map[string]int, length int) {
	base := 0
	switch r {
	case regionDecay:
		length = lay.DecayLen
	case regionExempt:
		base, length = lay.ExemptStart, lay.ParamsLen-lay.ExemptStart
	case regionParams:
		length = lay.ParamsLen
	case regionStats:
		length = lay.StatsLen
	}
	offsets = map[string]int{}
	for _, p := range cfg.Params() {
		off, ok := lay.Offsets[p.Name]
		if !ok || p.Trainable == (r == regionStats) || off < base || off >= base+length {
			continue
		}
		offsets[p.Name] = off - base
	}
	return offsets, length
}

// realign moves the state tensor name's values v from layout from to
// layout to (the gaps between entries become 0, which no update reads).
func realign(cfg arch.Config, name string, v []float32, from, to net.Layout) ([]float32, error) {
	r, err := regionOf(name)
	if err != nil {
		return nil, err
	}
	fromOff, fromLen := regionEntries(cfg, from, r)
	toOff, toLen := regionEntries(cfg, to, r)
	if len(v) != fromLen {
		return nil, fmt.Errorf("train: checkpoint state %s has %d values, its layout (alignment %d) needs %d", name, len(v), from.Align, fromLen)
	}
	return moveEntries(cfg, v, fromOff, toOff, toLen), nil
}

// moveEntries copies each parameter's values in v from its offset in
// fromOff to its offset in toOff of a new slice of toLen values (the gaps
// stay 0). Parameters absent from fromOff are skipped.
func moveEntries(cfg arch.Config, v []float32, fromOff, toOff map[string]int, toLen int) []float32 {
	out := make([]float32, toLen)
	for _, p := range cfg.Params() {
		src, ok := fromOff[p.Name]
		if !ok {
			continue
		}
		n := p.Elements()
		copy(out[toOff[p.Name]:toOff[p.Name]+n], v[src:src+n])
	}
	return out
}
