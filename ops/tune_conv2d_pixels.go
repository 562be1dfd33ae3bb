package ops

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// The pixel-lane weight gradient, conv2d_backward_weight_pixels: for
// convolutions with fewer input channels than a cluster has lanes (the
// stem's 3), whose one-channel-per-lane clusters leave most lanes idle,
// the invocations of a workgroup split each row's pixels instead, each
// summing its own partial weight gradient of one input channel and
// conv2dPixelOutTile output channels; conv2d_backward_weight_sum then adds
// the partial sums (one per invocation and chunk) in a fixed order.

// conv2dPixelMaxPartials bounds the partial sums (floats) of the
// pixel-lane variants: they are for small weights.
const conv2dPixelMaxPartials = 1 << 22

// conv2dPixelSplits are the pixel-lane variants: ot output channels per
// workgroup (its invocations hold ot*k*k sums each: 0 is conv2dOutTile's
// choice, 8 for k = 3), the rows in one chunk or split into 4 (more
// workgroups). Measured on the stem (lavapipe, CPU time, 2026-11-29):
// pixels 1.12-1.25x the single pass, ot 2, 4, 12 and 24 slower than 8.
var conv2dPixelSplits = []struct {
	name   string
	ot     int
	chunks func(conv2dGeometry) int
}{
	{"pixels", 0, func(conv2dGeometry) int { return 1 }},
	{"pixels_split4", 0, fixedChunks(4)},
}

// conv2dPixelLocal is the pixel-lane kernel's local size on d: one
// cluster on a CPU driver (a workgroup is one SIMD loop there), the GPU
// cluster workgroup elsewhere, within the device's limit.
func conv2dPixelLocal(d *engine.Device) int {
	return clusterShapeOf(d).local
}

// conv2dPixelPartials is the number of partial sums of a pixel-lane
// variant with chunks(g) chunks on d: one per invocation and chunk.
func conv2dPixelPartials(d *engine.Device, g conv2dGeometry, chunks func(conv2dGeometry) int) int {
	return chunks(g) * conv2dPixelLocal(d)
}

func conv2dPixelVariants() []variant[conv2dWeightCall] {
	var out []variant[conv2dWeightCall]
	for _, sp := range conv2dPixelSplits {
		chunks, ot := sp.chunks, sp.ot
		out = append(out, variant[conv2dWeightCall]{
			name: sp.name,
			kernels: func(*engine.Device, conv2dWeightCall) []string {
				return []string{"conv2d_backward_weight_pixels", "conv2d_backward_weight_sum"}
			},
			eligible: func(d *engine.Device, c conv2dWeightCall) bool { return conv2dPixelsFit(d, c.g, chunks) },
			record: func(s *engine.Sequence, c conv2dWeightCall) {
				recordConv2DWeightPixels(s, c, chunks(c.g), ot)
			},
		})
	}
	return out
}

// recordConv2DWeightPixels records the pixel-lane partial sums over chunks
// chunks of output rows, ot output channels per workgroup (0:
// conv2dOutTile's choice), into c.partial, then their sum into c.dw.
func recordConv2DWeightPixels(s *engine.Sequence, c conv2dWeightCall, chunks, ot int) {
	g := c.g
	if ot == 0 {
		ot = conv2dOutTile(g.k)
	}
	local := conv2dPixelLocal(s.Device())
	k := s.Kernel("conv2d_backward_weight_pixels", append(g.tileSpecs(conv2dTile{px: conv2dPixels}),
		engine.Spec{ID: conv2dSpecOutTile, Value: uint32(ot)}, engine.Spec{ID: conv2dSpecLocal, Value: uint32(local)})...)
	rows := ceilDiv(g.n*g.oh, chunks)
	s.Dispatch(k, engine.Grid{X: g.c, Y: ceilDiv(g.oc, ot), Z: chunks}, g.push(rows), c.partial, c.x, c.dy)
	n := g.oc * g.c * g.k * g.k
	sum := s.Kernel("conv2d_backward_weight_sum", engine.Spec{ID: conv2dSpecLocal, Value: elementwiseLocal(s.Device())})
	s.Dispatch1D(sum, n, shaders.Conv2dBackwardWeightSumPush{Len: int32(n), Chunks: int32(chunks * local)}, c.dw, c.partial)
}

// conv2dPixelsFit reports whether a pixel-lane variant with chunks(g)
// chunks can record g's weight gradient on d: fewer input channels than a
// cluster's lanes (where the clusters idle lanes), partial sums within
// conv2dPixelMaxPartials, and a grid within the device's limits.
func conv2dPixelsFit(d *engine.Device, g conv2dGeometry, chunks func(conv2dGeometry) int) bool {
	info := d.Info
	partials := conv2dPixelPartials(d, g, chunks)
	return g.c < conv2dLanes && partials*g.oc*g.c*g.k*g.k <= conv2dPixelMaxPartials &&
		g.c <= int(info.MaxWorkgroupCount[0]) && chunks(g) <= int(info.MaxWorkgroupCount[2])
}
