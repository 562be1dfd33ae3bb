package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// conv2dWeightWorkgroups is roughly how many workgroups a chunked
// backward-weight pass aims at: enough to fill a GPU, few enough that the
// partial sums stay small.
const conv2dWeightWorkgroups = 1024

// Conv2DWeightScratch holds the partial sums of a chunked convolution weight
// gradient (Conv2DBackwardWeightChunked): the sum over the N*OH output rows
// is split into chunks, each summed by its own workgroups, then the chunks
// are added in a fixed order. Make one per layer geometry with
// NewConv2DWeightScratch and free it after the sequences that use it.
type Conv2DWeightScratch struct {
	partial *engine.Tensor // [chunks, OC, C, K, K]
	chunks  int
	x, w    [4]int // the geometry it was made for
	stride  int
	// variant is the tuner's choice (PlanConv2DWeightGradient); nil for
	// a plain split into chunks (NewConv2DWeightScratch).
	variant *variant[conv2dWeightCall]
}

// NewConv2DWeightScratch allocates the scratch of the weight gradient of a
// convolution with input shape x [N,C,H,W], weight shape w [OC,C,K,K] and
// stride, split into the chunks a GPU wants (PlanConv2DWeightGradient
// lets the tuner choose instead).
func NewConv2DWeightScratch(d *engine.Device, x, w []int, stride int) (*Conv2DWeightScratch, error) {
	if err := checkWeightScratchShapes(x, w, stride); err != nil {
		return nil, err
	}
	rows := x[0] * ConvOutSize(x[2], w[2], stride)
	groups := ceilDiv(x[1], conv2dLanes) * ceilDiv(w[0], conv2dOutTile(w[2]))
	chunks := min(rows, max(1, ceilDiv(conv2dWeightWorkgroups, groups)))
	chunks = ceilDiv(rows, ceilDiv(rows, chunks)) // no empty chunk
	return newWeightScratch(d, x, w, stride, chunks)
}

// PlanConv2DWeightGradient returns the scratch of the weight gradient of a
// convolution (input shape x [N,C,H,W], weight shape w [OC,C,K,K],
// stride) for the variant the tuner chooses on d (see engine.TuneEnv): one
// pass, or split-K with some number of chunks (Chunks; 1 holds no
// memory). Record the gradient with Conv2DBackwardWeightChunked.
func PlanConv2DWeightGradient(d *engine.Device, x, w []int, stride int) (*Conv2DWeightScratch, error) {
	if err := checkWeightScratchShapes(x, w, stride); err != nil {
		return nil, err
	}
	g := conv2dGeometry{n: x[0], c: x[1], h: x[2], w: x[3], oc: w[0], k: w[2], stride: stride,
		oh: ConvOutSize(x[2], w[2], stride), ow: ConvOutSize(x[3], w[2], stride)}
	v, err := conv2dWeightTuned.choose(d, conv2dWeightCall{g: g})
	if err != nil {
		return nil, fmt.Errorf("ops: conv2d weight gradient: %w", err)
	}
	sc, err := newWeightScratch(d, x, w, stride, conv2dVariantChunks(d, v.name, g))
	if err != nil {
		return nil, err
	}
	sc.variant = &v
	return sc, nil
}

// checkWeightScratchShapes checks that x, w and stride make a convolution
// with at least one output row.
func checkWeightScratchShapes(x, w []int, stride int) error {
	if len(x) != 4 || len(w) != 4 || x[1] != w[1] || w[2] != w[3] || stride < 1 {
		return fmt.Errorf("ops: conv2d weight scratch: input %v, weight %v, stride %d do not make a convolution: want [N,C,H,W], [OC,C,K,K], stride >= 1", x, w, stride)
	}
	for _, v := range append(append([]int(nil), x...), w...) {
		if v < 1 {
			return fmt.Errorf("ops: conv2d weight scratch: input %v or weight %v has an empty dimension", x, w)
		}
	}
	if rows := x[0] * ConvOutSize(x[2], w[2], stride); rows < 1 {
		return fmt.Errorf("ops: conv2d weight scratch: input %v with kernel %d stride %d has no output rows", x, w[2], stride)
	}
	return nil
}

// newWeightScratch allocates partial sums for chunks chunks (none for 1).
func newWeightScratch(d *engine.Device, x, w []int, stride, chunks int) (*Conv2DWeightScratch, error) {
	sc := &Conv2DWeightScratch{chunks: chunks, stride: stride}
	copy(sc.x[:], x)
	copy(sc.w[:], w)
	if chunks <= 1 {
		return sc, nil
	}
	p, err := d.NewTensor("conv2d weight partial sums", engine.Float32, chunks, w[0], w[1], w[2], w[3])
	if err != nil {
		return nil, fmt.Errorf("ops: conv2d weight scratch for input %v, weight %v: %w", x, w, err)
	}
	sc.partial = p
	return sc, nil
}

// Chunks is the number of partial sums per weight element.
func (sc *Conv2DWeightScratch) Chunks() int { return sc.chunks }

// Free releases the scratch memory.
func (sc *Conv2DWeightScratch) Free() {
	if sc != nil && sc.partial != nil {
		sc.partial.Free()
	}
}

// Conv2DBackwardWeightChunked records the same gradient as
// Conv2DBackwardWeight,
//
//	dw[o,c,a,b] = sum_{n,i,j} dy[n,o,i,j] * x[n,c, i*s+a-p, j*s+b-p],
//
// in two passes for more parallelism: partial sums over chunks of output
// rows into scratch, then their sum in chunk order (bitwise reproducible).
// scratch must come from NewConv2DWeightScratch with x's and dw's shapes
// and the same stride.
func Conv2DBackwardWeightChunked(s *engine.Sequence, dw, x, dy *engine.Tensor, stride int, scratch *Conv2DWeightScratch) {
	const op = "conv2d backward weight (chunked)"
	g, ok := conv2dWeightCheck(s, op, dw, x, dy, stride)
	// Under a batch split each slice records Conv2DBackwardWeight (the
	// scratch is sized for the whole batch).
	if !ok || splitBatchSum(s, op, []*engine.Tensor{dw}, func(part batchPart, sums []*engine.Tensor) {
		Conv2DBackwardWeight(s, sums[0], part(x), part(dy), stride)
	}, x, dy) {
		return
	}
	if scratch == nil || scratch.stride != stride || scratch.x != [4]int{g.n, g.c, g.h, g.w} || scratch.w != [4]int{g.oc, g.c, g.k, g.k} {
		s.Fail(fmt.Errorf("%s: scratch does not fit x %v, dw %v, stride %d: make it with NewConv2DWeightScratch", op, x, dw, stride))
		return
	}
	if scratch.chunks > int(s.Device().Info.MaxWorkgroupCount[2]) {
		s.Fail(fmt.Errorf("%s: %d chunks exceed the device's %d workgroups in z", op, scratch.chunks, s.Device().Info.MaxWorkgroupCount[2]))
		return
	}
	if scratch.variant != nil {
		scratch.variant.record(s, conv2dWeightCall{g: g, dw: dw, x: x, dy: dy, partial: scratch.partial})
		return
	}
	// Few input channels on a CPU driver: the stem kernel, in at most the
	// scratch's chunks.
	if t, ok := stemWeightRoute(s.Device(), g, scratch.chunks); ok {
		recordConv2DStemWeight(s, conv2dWeightCall{g: g, dw: dw, x: x, dy: dy, partial: scratch.partial}, t)
		return
	}
	recordConv2DWeightChunks(s, g, dw, x, dy, scratch.partial, scratch.chunks)
}
