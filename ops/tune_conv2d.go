package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// conv2dCall is one convolution forward (out = y, img = x) or backward
// data (out = dx, img = dy) with weight w and, forward only, a fused
// epilogue ep (nil for none).
type conv2dCall struct {
	g            conv2dGeometry
	out, img, w  *engine.Tensor
	ep           *Epilogue
	backwardData bool
	addend       *engine.Tensor // backward data: added to dx (the _add kernels), or nil
}

// conv2dTile is what a conv2d variant chooses: px neighbouring pixels per
// invocation, rows output rows per cluster (0 or 1: one) and, forward
// only, whether the loop over the input channels is unrolled (the channel
// count a specialization constant).
type conv2dTile struct {
	px        int
	rows      int
	unrolled  bool
	scalarOut bool // forward: one store per output even where vec4 fits
}

// rowsPer is the number of rows a cluster computes.
func (t conv2dTile) rowsPer() int { return max(1, t.rows) }

// conv2dTiles are the tiles the forward and backward-data variants choose
// from, by name: today's fixed choice px4, narrower and wider pixel tiles
// (fewer registers, or more reuse of each weight and input fetch), several
// rows per cluster (fewer workgroups: each costs a call on a CPU driver)
// and, for a few input channels (at most conv2dUnrollChannels, as the
// stem's 3), the forward's channel loop unrolled.
var conv2dTiles = []struct {
	name string
	tile conv2dTile
}{
	{"px4", conv2dTile{px: 4}},
	{"px2", conv2dTile{px: 2}},
	{"px8", conv2dTile{px: 8}},
	{"px4_rows4", conv2dTile{px: 4, rows: 4}},
	{"px4_rows16", conv2dTile{px: 4, rows: 16}},
	{"px8_rows4", conv2dTile{px: 8, rows: 4}},
	{"px8_rows16", conv2dTile{px: 8, rows: 16}},
	{"px4_rows16_unrolled", conv2dTile{px: 4, rows: 16, unrolled: true}},
	{"px8_rows16_unrolled", conv2dTile{px: 8, rows: 16, unrolled: true}},
}

// conv2dUnrollChannels is the most input channels a forward variant
// unrolls its channel loop for.
const conv2dUnrollChannels = 4

func conv2dTileVariants(record func(*engine.Sequence, conv2dCall, conv2dTile), forward bool) []variant[conv2dCall] {
	var out []variant[conv2dCall]
	for _, ct := range conv2dTiles {
		t := ct.tile
		if t.unrolled && !forward {
			continue
		}
		out = append(out, variant[conv2dCall]{
			name:    ct.name,
			kernels: conv2dTileKernels(t),
			eligible: func(_ *engine.Device, c conv2dCall) bool {
				return !t.unrolled || c.g.c <= conv2dUnrollChannels
			},
			record: func(s *engine.Sequence, c conv2dCall) { record(s, c, t) },
		})
	}
	return out
}

// conv2dTileKernels lists the kernels of tile t's variant.
func conv2dTileKernels(t conv2dTile) func(d *engine.Device, c conv2dCall) []string {
	return func(d *engine.Device, c conv2dCall) []string {
		if c.backwardData {
			return []string{conv2dBackwardDataKernel(c) + clusterShapeOf(d).variant}
		}
		return []string{conv2dForwardKernel(c.g, t, c.ep) + clusterShapeOf(d).variant}
	}
}

// The autotuned forward and backward data of the conv2d kernels; the
// default (the choice with EFFV2VK_TUNE=off) is conv2dDefaultTile's.
var (
	conv2dForwardTuned      = newConv2DTuned("conv2d_forward", recordConv2DForward, true)
	conv2dBackwardDataTuned = newConv2DTuned("conv2d_backward_data", recordConv2DBackwardData, false)
)

func newConv2DTuned(op string, record func(*engine.Sequence, conv2dCall, conv2dTile), forward bool) *tunedOp[conv2dCall] {
	return &tunedOp[conv2dCall]{
		op:             op,
		variants:       append(conv2dTileVariants(record, forward), conv2dStemVariants(forward)...),
		defaultVariant: conv2dDefaultTile,
		shape: func(c conv2dCall) string {
			g := c.g
			return fmt.Sprintf("x=[%d %d %d %d] w=[%d %d %d %d] stride=%d%s%s", g.n, g.c, g.h, g.w, g.oc, g.c, g.k, g.k, g.stride, epilogueVariant(c.ep), addendVariant(c.addend))
		},
		scratch: func(d *engine.Device, c conv2dCall) (conv2dCall, func(), error) {
			ts, ep, free, err := scratchWithEpilogue(d, c.ep, c.out, c.img, c.w)
			if err != nil {
				return c, nil, err
			}
			c.out, c.img, c.w, c.ep = ts[0], ts[1], ts[2], ep
			c.addend, free, err = scratchAddend(d, c.addend, free)
			return c, free, err
		},
	}
}

// conv2dDefaultTile is the built-in tile: px4 (the fixed tile before
// tuning), except for a few input channels on a CPU driver: there the stem
// kernels (conv2dStemDefault), else for the forward the unrolled 8-pixel,
// 16-row tile, which measured 1.57x faster than px4 on the stem (lavapipe,
// CPU time, 2026-11-29).
func conv2dDefaultTile(d *engine.Device, c conv2dCall) string {
	if cpuShaped(d) && c.g.c <= conv2dUnrollChannels {
		if name, ok := conv2dStemDefault(d, c); ok {
			return name
		}
		if !c.backwardData {
			return "px8_rows16_unrolled"
		}
	}
	return "px4"
}
