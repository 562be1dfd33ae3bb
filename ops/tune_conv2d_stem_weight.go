package ops

import (
	"github.com/effv2vk/effv2vk/engine"
)

// stemWeightSplits are the stem weight gradient's variants
// (ops/conv2d_stem_weight.go), eligible for few input channels
// (stemWeightFits): each lane one output channel and the cluster all the
// input channels that fit (three gathers per input row), in one pass or
// split into 4, 8 or 16 chunks; or each lane three output channels of one
// input channel. Measured on the stem (3->24 s2 @128x128 batch 8,
// lavapipe, 2026-11-30, CPU time per run, shared 2-core machine, +-30%
// between rounds; see shaders/conv2d_stem_weight.comp): the pixel-lane
// "pixels" 4.7-5.7 ms, stem_split8 3.0-4.1, stem_single 3.4-3.8,
// stem_o3c1_split8 3.7-4.5. The _x4 variants (rows read as vec4 texels,
// W and OW multiples of 4) on 2026-11-30 (6 alternating rounds, medians):
// stem_split8 4.43, stem_x4_split8 3.40, stem_x4_o3c1_split8 2.72.
var stemWeightSplits = []struct {
	name string
	tile stemWeightTile
}{
	{"stem_single", stemWeightTile{segments: 3, chunks: func(conv2dGeometry) int { return 1 }}},
	{"stem_split4", stemWeightTile{segments: 3, chunks: fixedChunks(4)}},
	{"stem_split8", stemWeightTile{segments: 3, chunks: fixedChunks(8)}},
	{"stem_split16", stemWeightTile{segments: 3, chunks: fixedChunks(16)}},
	{"stem_o3c1_split8", stemWeightTile{outputs: 3, channels: 1, segments: 2, chunks: fixedChunks(8)}},
	{"stem_x4_split8", stemWeightTile{chunks: fixedChunks(8), texels: true, pixels: 16}},
	{"stem_x4_o3c1_split4", stemWeightTile{outputs: 3, channels: 1, chunks: fixedChunks(4), texels: true, pixels: 16}},
	{"stem_x4_o3c1_split8", stemWeightTile{outputs: 3, channels: 1, chunks: fixedChunks(8), texels: true, pixels: 16}},
}

// stemWeightDefaults are the stem variants a CPU driver records by
// default, the first that fits (the default of conv2dWeightTuned, and the
// tile Conv2DBackwardWeight and Conv2DBackwardWeightChunked route the
// stem's gradient to): rows read as vec4 texels where they are whole
// texels, else three gathers per input row, both in 8 chunks.
var stemWeightDefaults = []string{"stem_x4_o3c1_split8", "stem_split8"}

// stemWeightDefault is the stem variant a CPU driver records g with by
// default on d: its name and tile, ok false when none fits.
func stemWeightDefault(d *engine.Device, g conv2dGeometry) (name string, t stemWeightTile, ok bool) {
	for _, want := range stemWeightDefaults {
		for _, sp := range stemWeightSplits {
			if sp.name == want && stemWeightFits(d, g, sp.tile) {
				return sp.name, sp.tile, true
			}
		}
	}
	return "", stemWeightTile{}, false
}

func conv2dStemWeightVariants() []variant[conv2dWeightCall] {
	var out []variant[conv2dWeightCall]
	for _, sp := range stemWeightSplits {
		tile := sp.tile
		out = append(out, variant[conv2dWeightCall]{
			name: sp.name,
			kernels: func(*engine.Device, conv2dWeightCall) []string {
				if tile.texels {
					return []string{"conv2d_stem_weight_x4", "conv2d_backward_weight_sum"}
				}
				return []string{"conv2d_stem_weight", "conv2d_backward_weight_sum"}
			},
			eligible: func(d *engine.Device, c conv2dWeightCall) bool { return stemWeightFits(d, c.g, tile) },
			record:   func(s *engine.Sequence, c conv2dWeightCall) { recordConv2DStemWeight(s, c, tile) },
		})
	}
	return out
}

// stemWeightChunks is the number of partial sums the named stem variant
// needs for g (0: not a stem variant).
func stemWeightChunks(name string, g conv2dGeometry) int {
	for _, sp := range stemWeightSplits {
		if sp.name == name {
			return sp.tile.chunks(g)
		}
	}
	return 0
}

// stemWeightMaxChunks is the most partial sums a stem variant needs for g.
func stemWeightMaxChunks(g conv2dGeometry) int {
	chunks := 1
	for _, sp := range stemWeightSplits {
		chunks = max(chunks, sp.tile.chunks(g))
	}
	return chunks
}
