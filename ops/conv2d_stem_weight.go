package ops

import (
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// The stem's weight gradient, conv2d_stem_weight (shaders/
// conv2d_stem_weight.comp): for convolutions with few input channels, a
// cluster of lanes owns as many output channels (one per lane) and
// stemWeightTile.channels input channels, each invocation summing all the
// taps of its output channel; the cluster fetches each input row once, a
// column per lane, and hands the values round with subgroupShuffle.

// Specialization constant ids of shaders/conv2d_stem_weight.comp.
const (
	stemWeightSpecLocal    = 0
	stemWeightSpecSubgroup = 1
	stemWeightSpecLanes    = 2
	stemWeightSpecK        = 3
	stemWeightSpecStride   = 4
	stemWeightSpecChannels = 5
	stemWeightSpecSegments = 6
	stemWeightSpecOutputs  = 7
	stemWeightSpecPixels   = 8 // the _x4 kernel's pixels per step
)

// stemWeightMaxChannels is the most input channels the stem weight
// gradient is for: its invocations hold channels*k*k sums.
const stemWeightMaxChannels = 4

// stemWeightMaxSums bounds the sums an invocation holds (channels*k*k):
// more spill out of the registers.
const stemWeightMaxSums = 36

// stemWeightTile is one shape of the stem weight gradient: output
// channels per lane (0: 1), input channels per cluster (0: all of them),
// gathers per input row (at least enough for k columns) and the chunks of
// output rows, each summed apart. With texels (the _x4 kernel) each lane
// fetches one vec4 texel of every input row per step of at most pixels
// output pixels, and its dy values as vec4 texels (segments unused).
type stemWeightTile struct {
	outputs, channels, segments int
	chunks                      func(conv2dGeometry) int
	texels                      bool
	pixels                      int
}

// stemWeightTexelPixels is the output pixels per step of the _x4 kernel
// for g on d with tile t: the most, at most t.pixels, that are whole
// texels (a multiple of 4, as is stride*pixels) and whose input columns
// fit the window of one texel per lane with the previous window's last
// columns (the padding's) carried over; 0 when none does or g's rows are
// not whole texels (W and OW multiples of 4).
func stemWeightTexelPixels(d *engine.Device, g conv2dGeometry, t stemWeightTile) int {
	if !t.texels || g.w%4 != 0 || g.ow%4 != 0 {
		return 0
	}
	window, p := 4*stemWeightLanes(d), (g.k-1)/2
	for px := t.pixels - t.pixels%4; px >= 4; px -= 4 {
		if (px*g.stride)%4 == 0 && px*g.stride <= window && p <= px*g.stride && (px-1)*g.stride+p < window {
			return px
		}
	}
	return 0
}

// stemWeightLanes is the cluster width on d: the subgroup on a CPU driver
// (the shuffles' lanes are then constants), at most 16 on GPUs (few output
// channels: a wider cluster idles lanes).
func stemWeightLanes(d *engine.Device) int {
	sg := int(max(1, d.Info.SubgroupSize))
	if cpuShaped(d) {
		return sg
	}
	return min(sg, 16)
}

// stemWeightMaxColumns bounds the input columns a cluster fetches per
// input row and step (segments*lanes): each invocation holds as many.
const stemWeightMaxColumns = 24

// stemWeightShape is how t runs g on d: output channels per lane, input
// channels per cluster (t's, or as many as fit stemWeightMaxSums), gathers
// per input row (t's within stemWeightMaxColumns, and enough for k
// columns), chunks.
func stemWeightShape(d *engine.Device, g conv2dGeometry, t stemWeightTile) (outputs, channels, segments, chunks int) {
	outputs = max(1, t.outputs)
	channels = min(t.channels, g.c)
	if channels <= 0 {
		channels = max(1, min(g.c, stemWeightMaxSums/(outputs*g.k*g.k)))
	}
	lanes := stemWeightLanes(d)
	segments = max(ceilDiv(g.k, lanes), min(t.segments, ceilDiv(stemWeightMaxColumns, lanes)))
	return outputs, channels, segments, t.chunks(g)
}

// stemWeightFits reports whether tile t can record g's weight gradient on
// d: few input channels, sums that fit the registers, a subgroup whose
// size the pipeline can rely on (required, or a CPU driver's fixed one)
// and a grid within the device's limits.
func stemWeightFits(d *engine.Device, g conv2dGeometry, t stemWeightTile) bool {
	info := d.Info
	sg := info.SubgroupSize
	if g.c > stemWeightMaxChannels || sg == 0 || sg&(sg-1) != 0 || (!info.RequiredSubgroupSize && info.Type != engine.CPU) {
		return false
	}
	if int(sg) > int(info.MaxWorkgroupInvocation) {
		return false
	}
	outputs, channels, _, chunks := stemWeightShape(d, g, t)
	clusters := int(sg) / stemWeightLanes(d)
	if t.texels && stemWeightTexelPixels(d, g, t) == 0 {
		return false
	}
	return outputs*channels*g.k*g.k <= stemWeightMaxSums &&
		ceilDiv(g.oc, stemWeightLanes(d)*outputs) <= int(info.MaxWorkgroupCount[0]) &&
		ceilDiv(g.c, channels) <= int(info.MaxWorkgroupCount[1]) &&
		ceilDiv(chunks, clusters) <= int(info.MaxWorkgroupCount[2])
}

// recordConv2DStemWeight records the stem weight gradient of c with tile
// t: into c.dw in one pass when t has one chunk, else partial sums into
// c.partial and their sum in chunk order into c.dw.
func recordConv2DStemWeight(s *engine.Sequence, c conv2dWeightCall, t stemWeightTile) {
	g, d := c.g, s.Device()
	outputs, channels, segments, chunks := stemWeightShape(d, g, t)
	lanes, sg := stemWeightLanes(d), int(max(1, d.Info.SubgroupSize))
	name, args := "conv2d_stem_weight", []*engine.Tensor{c.x, c.dy}
	specs := []engine.Spec{{ID: stemWeightSpecLocal, Value: uint32(sg)},
		{ID: stemWeightSpecSubgroup, Value: uint32(sg)},
		{ID: stemWeightSpecLanes, Value: uint32(lanes)},
		{ID: stemWeightSpecK, Value: uint32(g.k)},
		{ID: stemWeightSpecStride, Value: uint32(g.stride)},
		{ID: stemWeightSpecChannels, Value: uint32(channels)},
		{ID: stemWeightSpecSegments, Value: uint32(segments)},
		{ID: stemWeightSpecOutputs, Value: uint32(outputs)}}
	if t.texels {
		name, args = "conv2d_stem_weight_x4", append(args, c.x, c.dy) // bindings 3, 4: as vec4 texels
		specs = append(specs, engine.Spec{ID: stemWeightSpecPixels, Value: uint32(stemWeightTexelPixels(d, g, t))})
	}
	k := s.KernelWithSubgroupSize(name, uint32(sg), specs...)
	rows := ceilDiv(g.n*g.oh, chunks)
	grid := engine.Grid{X: ceilDiv(g.oc, lanes*outputs), Y: ceilDiv(g.c, channels), Z: ceilDiv(chunks, sg/lanes)}
	push := shaders.Conv2dStemWeightPush(g.push(rows))
	if chunks <= 1 {
		s.Dispatch(k, grid, push, append([]*engine.Tensor{c.dw}, args...)...)
		return
	}
	s.Dispatch(k, grid, push, append([]*engine.Tensor{c.partial}, args...)...)
	n := g.oc * g.c * g.k * g.k
	sum := s.Kernel("conv2d_backward_weight_sum", engine.Spec{ID: conv2dSpecLocal, Value: elementwiseLocal(d)})
	s.Dispatch1D(sum, n, shaders.Conv2dBackwardWeightSumPush{Len: int32(n), Chunks: int32(chunks)}, c.dw, c.partial)
}

// stemWeightRoute is the stem tile a CPU driver records g's weight
// gradient with, with at most chunks chunks (1: one pass into dw), when
// it fits: ok false elsewhere (GPUs keep the cluster kernels, unless the
// tuner picks a stem variant).
func stemWeightRoute(d *engine.Device, g conv2dGeometry, chunks int) (stemWeightTile, bool) {
	_, t, ok := stemWeightDefault(d, g)
	if !ok || !cpuShaped(d) {
		return t, false
	}
	want := min(t.chunks(g), max(1, chunks))
	t.chunks = func(conv2dGeometry) int { return want }
	return t, stemWeightFits(d, g, t)
}
