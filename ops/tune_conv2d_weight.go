package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// conv2dWeightCall is one convolution weight gradient: dw from x and dy,
// with partial ([chunks, OC, C, K, K] for at least the variant's chunks;
// nil for a single pass) holding split-K partial sums.
type conv2dWeightCall struct {
	g                  conv2dGeometry
	dw, x, dy, partial *engine.Tensor
}

// conv2dWeightSplits are the split-K choices of a convolution weight
// gradient: one pass, or the sum over the N*OH output rows split into
// chunks (today's GPU choice "split_auto" aims at about
// conv2dWeightWorkgroups workgroups), each chunk's partial sums then added
// in chunk order.
var conv2dWeightSplits = []struct {
	name   string
	chunks func(conv2dGeometry) int
}{
	{"single", func(conv2dGeometry) int { return 1 }},
	{"split_auto", conv2dAutoChunks},
	{"split4", fixedChunks(4)},
	{"split16", fixedChunks(16)},
	{"split64", fixedChunks(64)},
}

// conv2dGEMMSplits are the GEMM family's variants of a convolution weight
// gradient (GPU-shaped devices only, see gemmEligible): the implicit GEMM
// Conv2DBackwardWeightGEMM with a 64x64x16/8x8 or 32x32x16/4x4 tile, its
// reduction over the N*OH*OW output pixels split as gemmAutoSplit says
// (the pieces are the variant's chunks, in conv2dWeightCall.partial).
var conv2dGEMMSplits = []struct {
	name string
	tile GEMMTile
}{
	{"gemm64_splitk", gemmTile64},
	{"gemm32_splitk", gemmTile32},
}

// conv2dGEMMTile is tile split for the weight gradient of g.
func conv2dGEMMTile(tile GEMMTile, g conv2dGeometry) GEMMTile {
	return gemmAutoSplit(tile, g.oc, g.c*g.k*g.k, g.n*g.oh*g.ow)
}

// conv2dWeightVariants are the autotuned ways to compute a convolution
// weight gradient: the splits, then the GEMM family's (a variant needing
// no partial sums ignores conv2dWeightCall.partial).
var conv2dWeightVariants = append(append(conv2dSplitVariants(), conv2dGEMMVariants()...), append(conv2dPixelVariants(), conv2dStemWeightVariants()...)...)

func conv2dGEMMVariants() []variant[conv2dWeightCall] {
	var out []variant[conv2dWeightCall]
	for _, sp := range conv2dGEMMSplits {
		out = append(out, variant[conv2dWeightCall]{
			name: sp.name,
			kernels: func(_ *engine.Device, c conv2dWeightCall) []string {
				return gemmKernels(conv2dGEMMTile(sp.tile, c.g), false)
			},
			eligible: func(d *engine.Device, c conv2dWeightCall) bool {
				t := conv2dGEMMTile(sp.tile, c.g)
				return t.splits() > 1 && gemmEligible(d, t, c.g.oc, c.g.c*c.g.k*c.g.k, c.g.n*c.g.oh*c.g.ow)
			},
			record: func(s *engine.Sequence, c conv2dWeightCall) {
				Conv2DBackwardWeightGEMM(s, c.dw, c.x, c.dy, c.g.stride, conv2dGEMMTile(sp.tile, c.g), c.partial)
			},
		})
	}
	return out
}

func conv2dSplitVariants() []variant[conv2dWeightCall] {
	var out []variant[conv2dWeightCall]
	for _, sp := range conv2dWeightSplits {
		chunks, auto := sp.chunks, sp.name == "split_auto"
		v := variant[conv2dWeightCall]{name: sp.name, kernels: conv2dWeightKernels,
			record: func(s *engine.Sequence, c conv2dWeightCall) {
				recordConv2DWeightChunks(s, c.g, c.dw, c.x, c.dy, c.partial, chunks(c.g))
			}}
		if sp.name != "single" {
			// A split is a variant when it has more than one chunk, fits
			// the grid and differs from split_auto (or is split_auto).
			v.eligible = func(d *engine.Device, c conv2dWeightCall) bool {
				n := chunks(c.g)
				return n > 1 && n <= int(d.Info.MaxWorkgroupCount[2]) && (auto || n != conv2dAutoChunks(c.g))
			}
		}
		out = append(out, v)
	}
	return out
}

// conv2dVariantChunks is the number of partial sums the named variant
// needs for g on d (1: none).
func conv2dVariantChunks(d *engine.Device, name string, g conv2dGeometry) int {
	if chunks := stemWeightChunks(name, g); chunks > 0 {
		return chunks
	}
	for _, sp := range conv2dPixelSplits {
		if sp.name == name {
			return conv2dPixelPartials(d, g, sp.chunks)
		}
	}
	for _, sp := range conv2dWeightSplits {
		if sp.name == name {
			return sp.chunks(g)
		}
	}
	for _, sp := range conv2dGEMMSplits {
		if sp.name == name {
			return conv2dGEMMTile(sp.tile, g).splits()
		}
	}
	return 1
}

// conv2dMaxChunks is the most partial sums any variant needs for g on d.
func conv2dMaxChunks(d *engine.Device, g conv2dGeometry) int {
	chunks := stemWeightMaxChunks(g)
	for _, sp := range conv2dPixelSplits {
		chunks = max(chunks, conv2dPixelPartials(d, g, sp.chunks))
	}
	for _, sp := range conv2dWeightSplits {
		chunks = max(chunks, sp.chunks(g))
	}
	for _, sp := range conv2dGEMMSplits {
		chunks = max(chunks, conv2dGEMMTile(sp.tile, g).splits())
	}
	return chunks
}

// conv2dWeightTuned is the autotuned convolution weight gradient; the
// default is a single pass on a CPU driver (for few input channels, as
// the stem's, the stem kernel split into chunks, else the pixel-lane pass
// when the input channels are fewer than a cluster's lanes),
// split_auto on GPUs (as ChunkedWeightGradients says).
var conv2dWeightTuned = &tunedOp[conv2dWeightCall]{
	op:       "conv2d_backward_weight",
	variants: conv2dWeightVariants,
	defaultVariant: func(d *engine.Device, c conv2dWeightCall) string {
		if ChunkedWeightGradients(d) && conv2dAutoChunks(c.g) > 1 {
			return "split_auto"
		}
		if name, _, ok := stemWeightDefault(d, c.g); ok && !ChunkedWeightGradients(d) && cpuShaped(d) {
			return name
		}
		if !ChunkedWeightGradients(d) && conv2dPixelsFit(d, c.g, conv2dPixelSplits[0].chunks) {
			return "pixels"
		}
		return "single"
	},
	shape: func(c conv2dWeightCall) string {
		g := c.g
		return fmt.Sprintf("x=[%d %d %d %d] w=[%d %d %d %d] stride=%d", g.n, g.c, g.h, g.w, g.oc, g.c, g.k, g.k, g.stride)
	},
	scratch: func(d *engine.Device, c conv2dWeightCall) (conv2dWeightCall, func(), error) {
		g := c.g
		chunks := conv2dMaxChunks(d, g)
		dims := [][]int{{g.oc, g.c, g.k, g.k}, {g.n, g.c, g.h, g.w}, {g.n, g.oc, g.oh, g.ow}, {chunks, g.oc, g.c, g.k, g.k}}
		ts := make([]*engine.Tensor, len(dims))
		free := func() {
			for _, t := range ts {
				if t != nil {
					t.Free()
				}
			}
		}
		for i, shape := range dims {
			t, err := d.NewTensor("tune scratch conv2d weight gradient", engine.Float32, shape...)
			if err != nil {
				free()
				return c, nil, err
			}
			ts[i] = t
		}
		if err := zeroTensors(d, ts...); err != nil {
			free()
			return c, nil, err
		}
		c.dw, c.x, c.dy, c.partial = ts[0], ts[1], ts[2], ts[3]
		return c, free, nil
	},
}

// conv2dAutoChunks is today's chunk count for a GPU: enough chunks that
// about conv2dWeightWorkgroups workgroups run, at most one per output row.
func conv2dAutoChunks(g conv2dGeometry) int {
	rows := g.n * g.oh
	groups := ceilDiv(g.c, conv2dLanes) * ceilDiv(g.oc, conv2dOutTile(g.k))
	return evenChunks(rows, min(rows, max(1, ceilDiv(conv2dWeightWorkgroups, groups))))
}

// fixedChunks is a chunk count of n, or fewer when the rows are fewer.
func fixedChunks(n int) func(conv2dGeometry) int {
	return func(g conv2dGeometry) int { return evenChunks(g.n*g.oh, min(n, g.n*g.oh)) }
}

// evenChunks is the number of chunks when rows are split into chunks of
// ceil(rows/chunks) rows (so that no chunk is empty).
func evenChunks(rows, chunks int) int { return ceilDiv(rows, ceilDiv(rows, chunks)) }

// recordConv2DWeightChunks records the weight gradient summed in chunks
// chunks: partial sums into partial, then their sum in chunk order into
// dw; one pass into dw when chunks is 1.
func recordConv2DWeightChunks(s *engine.Sequence, g conv2dGeometry, dw, x, dy, partial *engine.Tensor, chunks int) {
	if chunks <= 1 {
		conv2dWeightPartials(s, g, dw, x, dy, 1)
		return
	}
	conv2dWeightPartials(s, g, partial, x, dy, chunks)
	n := g.oc * g.c * g.k * g.k
	sum := s.Kernel("conv2d_backward_weight_sum", engine.Spec{ID: conv2dSpecLocal, Value: elementwiseLocal(s.Device())})
	s.Dispatch1D(sum, n, shaders.Conv2dBackwardWeightSumPush{Len: int32(n), Chunks: int32(chunks)}, dw, partial)
}

func conv2dWeightKernels(d *engine.Device, _ conv2dWeightCall) []string {
	return []string{"conv2d_backward_weight" + clusterShapeOf(d).variant, "conv2d_backward_weight_sum"}
}
