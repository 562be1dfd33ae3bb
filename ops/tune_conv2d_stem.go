package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// The stem kernels (shaders/conv2d_stem.comp): forward and backward data
// of a convolution with few input channels (at most conv2dUnrollChannels,
// as the stem's 3), whose invocations own pixels and every channel instead
// of one channel of an 8-lane cluster. They are variants of the autotuned
// conv2d forward and backward data, the default on a CPU driver.
//
// Measured on lavapipe (2026-11-29, `effv2vk bench ops --only stem` with
// EFFV2VK_TUNE=off and EFFV2VK_TUNE_FORCE, alternating with main 6e5a19d's
// default on a heavily shared 2-core machine, so ranges): forward
// stem_px8_rows4 1.2-1.5x and stem_px4_rows16 1.3-1.4x main's
// px8_rows16_unrolled, stem_px4 (one row per invocation) 0.5-0.6x (every
// workgroup costs a call), the output channels split over the grid (their
// weights then at per-workgroup addresses, a loop over the lanes each)
// 0.2x; backward data stem_px4 2-5x main's four parity dispatches,
// stem_px4_rows4 and stem_px8_rows4 similar within the noise, px2 slower.
// A stem weight gradient on the same plan (pixels on lanes, all taps per
// invocation) measured 1-10x slower than the pixel-lane pass (a
// shared-memory reduction with barriers alone cost ~40 ms) and was dropped.
//
// The texel-read, 64-bit-store variants (2026-11-30, same command with
// EFFV2VK_TUNE_FORCE, alternating with main 5b4f3f7's default, 6 rounds of
// 9 runs on the 2-core machine shared by five builds and a training run,
// medians of the rounds' medians): backward data stem_px8_rows4_dy4_u64
// 3.01 ms, stem_px4_rows4_dy4_u64 4.00, stem_px4_rows4_dy4 6.20 against
// main's stem_px4_rows4 6.17 (the same kernel here 6.43); dy rows carried
// to the next row 5.47 (dropped). Forward (4 rounds) stem_px8_rows4_x4_u64
// 2.87 ms against main's stem_px8_rows4 3.66.
//
// Backward data summed by parity class (_kb: 2026-11-30, the tuner's own
// timings of `effv2vk bench ops --only "stem 3->24 s2 @128x128 bwd data"`
// with a fresh cache, 9 rounds on the shared 2-core machine, the ratio to
// stem_px8_rows4_dy4_u64 in the same round): kb4 0.89-1.04x, median 0.93x;
// kb8 0.88-1.00x and kb2 0.89-1.02x (6 rounds); px4 kb4 1.1-1.8x the px4
// kernel (dropped). Against main 9c3efcd's binary (EFFV2VK_TUNE=off, 3
// alternating rounds of 15 runs): bwd data medians 2.24/2.40/2.48 ms
// against 2.41/2.61/3.01, 0.92x. Where the tap-by-tap kernel's time went (ablations, 4 rounds,
// ratios to it): without the dy fetches ~0.8x, without the FMAs (one add
// per pixel and channel instead) ~0.45x, without the stores ~0.9x; summing
// pixel by pixel (each pixel's taps together) 0.93-0.99x; RB*2 input rows
// per step from RB+1 dy rows (fewer fetches, more live sums) RB=2 1.1-1.3x,
// RB=4 2-3x; weights read from the buffer at each use, not once per
// invocation, 2.5-4.5x. All dropped.

// conv2dStemMaxOut is the most output channels of a stem variant, whose
// invocations keep all of them (unrolled weight loads and sums).
const conv2dStemMaxOut = 32

// conv2dStemSpecClassColumns is the _pb kernel's specialization constant
// KB (conv2dStemTile.kb).
const conv2dStemSpecClassColumns = 9

// conv2dStemSpecOutputGroup is the _pb kernel's specialization constant
// OG: the output channels whose dy an invocation holds at once.
const conv2dStemSpecOutputGroup = 10

// conv2dStemTile is a stem variant's choice: px pixel columns per
// invocation (forward: output columns; backward data: columns of each
// stride residue) and rows rows (of S input rows for backward data) per
// invocation.
type conv2dStemTile struct {
	px   int
	rows int // rows per invocation (0 or 1: one)
	// texels reads the input's rows (forward: x, W and S*px multiples of
	// 4; backward data: dy, OW and px multiples of 4) as vec4 texels; u64
	// writes the output as groups of 8 floats (u64vec4, on devices with
	// shaderInt64; forward: OW and px multiples of 8; backward data: W
	// and S*px).
	texels, u64 bool
	// kb (backward data with texels and u64 only; 0: tap by tap) sums each
	// stride parity class of the input columns kb columns at a time, over
	// every output channel and tap (the _pb kernel): each weight is read
	// once for kb columns, each dy value once for the input channels.
	kb int
	// og (with kb; 0: all) is the output channels whose dy an invocation
	// holds at once, the sums going on over the next group's.
	og int
}

// conv2dStemTiles are the stem variants, by name.
var conv2dStemTiles = []struct {
	name    string
	tile    conv2dStemTile
	forward bool // a forward variant (else backward data)
}{
	{"stem_px4", conv2dStemTile{px: 4}, true},
	{"stem_px4_rows16", conv2dStemTile{px: 4, rows: 16}, true},
	{"stem_px8_rows4", conv2dStemTile{px: 8, rows: 4}, true},
	{"stem_px8_rows16", conv2dStemTile{px: 8, rows: 16}, true},
	{"stem_px8_rows4_x4_u64", conv2dStemTile{px: 8, rows: 4, texels: true, u64: true}, true},
	{"stem_px4", conv2dStemTile{px: 4}, false},
	{"stem_px4_rows4", conv2dStemTile{px: 4, rows: 4}, false},
	{"stem_px8_rows4", conv2dStemTile{px: 8, rows: 4}, false},
	{"stem_px4_rows4_dy4", conv2dStemTile{px: 4, rows: 4, texels: true}, false},
	{"stem_px4_rows4_dy4_u64", conv2dStemTile{px: 4, rows: 4, texels: true, u64: true}, false},
	{"stem_px8_rows4_dy4_u64", conv2dStemTile{px: 8, rows: 4, texels: true, u64: true}, false},
	{"stem_px8_rows4_dy4_u64_kb4", conv2dStemTile{px: 8, rows: 4, texels: true, u64: true, kb: 4}, false},
	{"stem_px8_rows4_dy4_u64_kb2", conv2dStemTile{px: 8, rows: 4, texels: true, u64: true, kb: 2}, false},
	{"stem_px8_rows4_dy4_u64_kb8", conv2dStemTile{px: 8, rows: 4, texels: true, u64: true, kb: 8}, false},
	{"stem_px8_rows4_dy4_u64_kb4_og8", conv2dStemTile{px: 8, rows: 4, texels: true, u64: true, kb: 4, og: 8}, false},
}

// conv2dStemVariants are the stem variants of the forward (forward) or
// backward data.
func conv2dStemVariants(forward bool) []variant[conv2dCall] {
	var out []variant[conv2dCall]
	for _, st := range conv2dStemTiles {
		if st.forward != forward {
			continue
		}
		t := st.tile
		out = append(out, variant[conv2dCall]{
			name: st.name,
			kernels: func(_ *engine.Device, c conv2dCall) []string {
				return []string{conv2dStemKernel(c, t)}
			},
			eligible: func(d *engine.Device, c conv2dCall) bool { return conv2dStemFits(d, c, t) },
			record:   func(s *engine.Sequence, c conv2dCall) { recordConv2DStem(s, c, t) },
		})
	}
	return out
}

// conv2dStemFits reports whether stem tile t can record c on d: few input
// channels, at most conv2dStemMaxOut output channels, and the grid within
// the device's limits.
func conv2dStemFits(d *engine.Device, c conv2dCall, t conv2dStemTile) bool {
	// The stem kernels have no added tensor (the _add kernels' residual
	// gradient) and no input scale: such calls take the other variants.
	if c.addend != nil || (c.ep != nil && c.ep.InputScale != nil) {
		return false
	}
	if c.g.c > conv2dUnrollChannels || c.g.oc > conv2dStemMaxOut {
		return false
	}
	g := c.g
	switch {
	case (t.kb > 0 || t.og > 0) && !(c.backwardData && t.texels && t.u64 && t.kb > 0):
		return false
	case t.texels && c.backwardData && !(g.ow%4 == 0 && t.px%4 == 0),
		t.texels && !c.backwardData && !(g.w%4 == 0 && (g.stride*t.px)%4 == 0),
		t.u64 && !d.Info.Int64,
		t.u64 && c.backwardData && !(g.w%8 == 0 && (g.stride*t.px)%8 == 0),
		t.u64 && !c.backwardData && !(g.ow%8 == 0 && t.px%8 == 0):
		return false
	}
	_, ok := conv2dStemGrid(d, c, t)
	return ok
}

// conv2dStemVec4 reports whether c's rows and tile t's pixels are whole
// vec4s (the _vec4 kernels' stores).
func conv2dStemVec4(c conv2dCall, t conv2dStemTile) bool {
	if c.backwardData {
		return c.g.w%4 == 0 && (c.g.stride*t.px)%4 == 0
	}
	return c.g.ow%4 == 0 && t.px%4 == 0
}

// conv2dStemKernel names the stem kernel of c with tile t.
func conv2dStemKernel(c conv2dCall, t conv2dStemTile) string {
	name := "conv2d_stem_forward" + epilogueVariant(c.ep)
	if c.backwardData {
		name = "conv2d_stem_backward_data"
		if t.texels {
			name += "_dy4"
		}
	} else if t.texels {
		name += "_x4"
	}
	if t.u64 && t.kb > 0 {
		return name + "_u64_pb"
	}
	if t.u64 {
		return name + "_u64"
	}
	if conv2dStemVec4(c, t) {
		name += "_vec4"
	}
	return name
}

// conv2dStemGrid is the grid of c's stem kernel with tile t on d: its
// invocations folded into x and y (forward: one per PX output columns of
// each output row; backward data: one per S rows x S*PX columns of the
// input); false when it does not fit.
func conv2dStemGrid(d *engine.Device, c conv2dCall, t conv2dStemTile) (engine.Grid, bool) {
	g := c.g
	rows := max(1, t.rows)
	invocations := ceilDiv(g.n*g.oh, rows) * ceilDiv(g.ow, t.px)
	if c.backwardData {
		invocations = ceilDiv(g.n*ceilDiv(g.h, g.stride), rows) * ceilDiv(g.w, g.stride*t.px)
	}
	grid, err := d.FoldGroups(ceilDiv(invocations, conv2dStemLocal(d)))
	return grid, err == nil && grid.Z == 1
}

// recordConv2DStem records c with the stem kernel of tile t.
func recordConv2DStem(s *engine.Sequence, c conv2dCall, t conv2dStemTile) {
	g := c.g
	d := s.Device()
	grid, ok := conv2dStemGrid(d, c, t)
	if !ok {
		s.Fail(fmt.Errorf("conv2d stem kernel: the grid of %v does not fit the device", g))
		return
	}
	spec := append(g.specs(),
		engine.Spec{ID: conv2dSpecChannels, Value: uint32(g.c)},
		engine.Spec{ID: conv2dSpecPixels, Value: uint32(t.px)},
		engine.Spec{ID: conv2dSpecOutTile, Value: uint32(g.oc)},
		engine.Spec{ID: conv2dSpecRows, Value: uint32(max(1, t.rows))},
		engine.Spec{ID: conv2dSpecLocal, Value: uint32(conv2dStemLocal(d))})
	if t.kb > 0 {
		og := g.oc
		if t.og > 0 {
			og = min(t.og, g.oc)
		}
		spec = append(spec, engine.Spec{ID: conv2dStemSpecClassColumns, Value: uint32(t.kb)},
			engine.Spec{ID: conv2dStemSpecOutputGroup, Value: uint32(og)})
	}
	k := s.Kernel(conv2dStemKernel(c, t), withEpilogue(spec, c.ep)...)
	args := []*engine.Tensor{c.out, c.img, c.w}
	if t.texels {
		args = append(args, c.img) // binding 3: the input as vec4 texels
	}
	s.Dispatch(k, grid, g.push(0), epilogueArgs(c.ep, args...)...)
}

// conv2dStemDefault is the stem variant a CPU driver takes for c by
// default, the first that fits of: 8 pixels x 4 rows per invocation with
// the input read as vec4 texels and 64-bit stores (backward data: summed
// by parity class, 4 columns at a time), then 8 pixels x 4 rows for the
// forward, 4 pixels x 4 rows (of 2 input rows at stride 2) for backward
// data: the fastest on the stem on lavapipe.
func conv2dStemDefault(d *engine.Device, c conv2dCall) (string, bool) {
	choices := []string{"stem_px8_rows4_x4_u64", "stem_px8_rows4"}
	if c.backwardData {
		choices = []string{"stem_px8_rows4_dy4_u64_kb4", "stem_px4_rows4"}
	}
	for _, name := range choices {
		for _, st := range conv2dStemTiles {
			if st.name == name && st.forward != c.backwardData && conv2dStemFits(d, c, st.tile) {
				return name, true
			}
		}
	}
	return "", false
}
