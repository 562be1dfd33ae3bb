package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// Tile of the conv2d kernels: a cluster is conv2dLanes invocations, each
// owning px neighbouring pixels of one row (a specialization constant, the
// autotuner's choice for forward and backward data, ops/tune_conv2d.go;
// conv2dPixels elsewhere), and conv2dLanes channels; a workgroup holds
// clusterShape.clusters() clusters. Mirrors LANES and PX in
// shaders/conv2d.comp.
const (
	conv2dLanes  = clusterLanes
	conv2dPixels = 4
)

// Specialization constant ids of shaders/conv2d.comp.
const (
	conv2dSpecK        = 0
	conv2dSpecStride   = 1
	conv2dSpecResid    = 2
	conv2dSpecOutTile  = 3
	conv2dSpecRowResid = 4
	conv2dSpecLocal    = 5 // local size (also of conv2d_backward_weight_sum)
	conv2dSpecPixels   = 6
	conv2dSpecChannels = 7
	conv2dSpecRows     = 8
)

// conv2dPush is the push-constant block shared by the conv2d kernels.
type conv2dPush = shaders.Conv2dForwardPush

// conv2dGeometry is what the three conv2d operations derive from their
// tensors.
type conv2dGeometry struct {
	n, c, h, w, oc, oh, ow, k, stride int
}

func (g conv2dGeometry) push(rows int) conv2dPush {
	return conv2dPush{N: int32(g.n), C: int32(g.c), H: int32(g.h), W: int32(g.w),
		Oc: int32(g.oc), Oh: int32(g.oh), Ow: int32(g.ow), Rows: int32(rows)}
}

func (g conv2dGeometry) specs() []engine.Spec {
	return []engine.Spec{{ID: conv2dSpecK, Value: uint32(g.k)}, {ID: conv2dSpecStride, Value: uint32(g.stride)}}
}

// tileSpecs are g's specialization constants with tile t: t.px pixels per
// invocation, t.rows rows per cluster (when more than 1) and, when
// t.unrolled, the input channels known to the pipeline (the forward's loop
// over them then unrolls).
func (g conv2dGeometry) tileSpecs(t conv2dTile) []engine.Spec {
	spec := append(g.specs(), engine.Spec{ID: conv2dSpecPixels, Value: uint32(t.px)})
	if t.rows > 1 {
		spec = append(spec, engine.Spec{ID: conv2dSpecRows, Value: uint32(t.rows)})
	}
	if t.unrolled {
		spec = append(spec, engine.Spec{ID: conv2dSpecChannels, Value: uint32(g.c)})
	}
	return spec
}

// conv2dCheck reads the geometry of a convolution from its image-sized
// tensor (x or dx: [N,C,H,W]), its output-sized tensor (y or dy:
// [N,OC,OH,OW]) and its weight-sized tensor (w or dw: [OC,C,K,K]),
// recording an error in s when they disagree or the kernel size, stride or
// device is not supported.
func conv2dCheck(s *engine.Sequence, op string, img, out, wt *engine.Tensor, imgRole, outRole, wRole string, stride int) (conv2dGeometry, bool) {
	var g conv2dGeometry
	if s.Err() != nil {
		return g, false
	}
	n, c, h, w, ok := shape4(s, op, img)
	if !ok {
		return g, false
	}
	if wt == nil || len(wt.Shape) != 4 || wt.Shape[1] != c || wt.Shape[2] != wt.Shape[3] || wt.Shape[0] < 1 {
		s.Fail(fmt.Errorf("%s: %s %v does not fit %s %v: want [OC,%d,K,K]", op, wRole, wt, imgRole, img, c))
		return g, false
	}
	k := wt.Shape[2]
	if k < 1 || k > 7 || k%2 == 0 {
		s.Fail(fmt.Errorf("%s: kernel size %d (%s %v) is not supported: use an odd size from 1 to 7", op, k, wRole, wt))
		return g, false
	}
	if stride != 1 && stride != 2 {
		s.Fail(fmt.Errorf("%s: stride %d is not supported: use 1 or 2", op, stride))
		return g, false
	}
	g = conv2dGeometry{n: n, c: c, h: h, w: w, oc: wt.Shape[0], oh: ConvOutSize(h, k, stride), ow: ConvOutSize(w, k, stride), k: k, stride: stride}
	if !wantShape(s, op, outRole, out, n, g.oc, g.oh, g.ow) {
		return g, false
	}
	for _, t := range []*engine.Tensor{img, out, wt} {
		if t.DType != engine.Float32 {
			s.Fail(fmt.Errorf("%s: %v is %s, want float32", op, t, t.DType))
			return g, false
		}
	}
	info := s.Device().Info
	if rows := n * max(h, g.oh); rows > int(info.MaxWorkgroupCount[1]) {
		s.Fail(fmt.Errorf("%s: %d image rows (batch %d x height %d) exceed the device's %d workgroups in y: split the batch", op, rows, n, max(h, g.oh), info.MaxWorkgroupCount[1]))
		return g, false
	}
	return g, true
}

// Conv2DForward records a k x k convolution with groups 1, no bias, stride 1
// or 2 and symmetric zero padding p = (k-1)/2 (k odd, 1 to 7, read from w):
//
//	y[n,o,i,j] = sum_{c<C, a<k, b<k} x[n,c, i*s+a-p, j*s+b-p] * w[o,c,a,b]
//
// with x outside [0,H)x[0,W) taken as 0. x is [N,C,H,W], w is [OC,C,k,k], y
// is [N,OC,OH,OW] with OH = (H+2p-k)/s+1 (likewise OW); y is overwritten.
func Conv2DForward(s *engine.Sequence, y, x, w *engine.Tensor, stride int) {
	conv2dForward(s, y, x, w, stride, nil)
}

// conv2dForward records Conv2DForward, with the fused epilogue ep unless
// it is nil (Conv2DForwardFused).
func conv2dForward(s *engine.Sequence, y, x, w *engine.Tensor, stride int, ep *Epilogue) {
	const op = "conv2d forward"
	g, ok := conv2dCheck(s, op, x, y, w, "x", "y", "w", stride)
	if !ok || splitBatch(s, op, func(part batchPart, _ int) { conv2dForward(s, part(y), part(x), w, stride, ep.sliced(part)) }, ep.withBatchMajor(y, x)...) {
		return
	}
	conv2dForwardTuned.record(s, conv2dCall{g: g, out: y, img: x, w: w, ep: ep})
}

// conv2dForwardKernel names the forward kernel (without the cluster
// shape's suffix) for tile t and epilogue ep: _vec4 output when the rows
// and the pixel tile are whole vec4s, unless t.scalarOut.
func conv2dForwardKernel(g conv2dGeometry, t conv2dTile, ep *Epilogue) string {
	name := "conv2d_forward" + epilogueVariant(ep)
	if g.ow%4 == 0 && t.px%4 == 0 && !t.scalarOut {
		name += "_vec4"
	}
	return name
}

// recordConv2DForward records the forward kernel with tile t.
func recordConv2DForward(s *engine.Sequence, c conv2dCall, t conv2dTile) {
	g := c.g
	shape := clusterShapeOf(s.Device())
	k := shape.kernel(s, conv2dForwardKernel(g, t, c.ep), conv2dSpecLocal, withEpilogue(g.tileSpecs(t), c.ep)...)
	grid := engine.Grid{X: ceilDiv(g.ow, conv2dLanes*t.px), Y: ceilDiv(g.n*g.oh, shape.clusters()*t.rowsPer()), Z: ceilDiv(g.oc, conv2dLanes)}
	s.Dispatch(k, grid, g.push(0), epilogueArgs(c.ep, c.out, c.img, c.w)...)
}

// Conv2DBackwardData records the gradient of Conv2DForward with respect to
// its input x (a transposed convolution):
//
//	dx[n,c,h,v] = sum over (o,i,j,a,b) with i*s+a-p = h and j*s+b-p = v of
//	              dy[n,o,i,j] * w[o,c,a,b]
//
// dx is [N,C,H,W] and gives the input size (stride 2 maps two input sizes
// to one output size), dy is [N,OC,OH,OW], w is [OC,C,k,k]. dx is
// overwritten. Stride 2 records one dispatch per parity of (row, column).
func Conv2DBackwardData(s *engine.Sequence, dx, dy, w *engine.Tensor, stride int) {
	conv2dBackwardData(s, dx, dy, w, stride, nil)
}

// conv2dBackwardData records Conv2DBackwardData, adding addend to dx
// unless it is nil (Conv2DBackwardDataAdd).
func conv2dBackwardData(s *engine.Sequence, dx, dy, w *engine.Tensor, stride int, addend *engine.Tensor) {
	const op = "conv2d backward data"
	g, ok := conv2dCheck(s, op, dx, dy, w, "dx", "dy", "w", stride)
	if !ok || !addendCheck(s, op, dx, addend, dy, w) || splitBatch(s, op, func(part batchPart, _ int) {
		conv2dBackwardData(s, part(dx), part(dy), w, stride, partOrNil(part, addend))
	}, withNonNil([]*engine.Tensor{dx, dy}, addend)...) {
		return
	}
	conv2dBackwardDataTuned.record(s, conv2dCall{g: g, out: dx, img: dy, w: w, backwardData: true, addend: addend})
}

// recordConv2DBackwardData records the backward-data kernel with tile t
// (only its pixels count) into c.out from c.img (dy).
func recordConv2DBackwardData(s *engine.Sequence, c conv2dCall, t conv2dTile) {
	g := c.g
	shape := clusterShapeOf(s.Device())
	for rh := 0; rh < g.stride && rh < g.h; rh++ {
		rows := ceilDiv(g.h-rh, g.stride) // rows h = rh + stride*r
		for rv := 0; rv < g.stride && rv < g.w; rv++ {
			cols := ceilDiv(g.w-rv, g.stride) // columns v = rv + stride*m
			k := shape.kernel(s, conv2dBackwardDataKernel(c), conv2dSpecLocal, append(g.tileSpecs(conv2dTile{px: t.px, rows: t.rows}),
				engine.Spec{ID: conv2dSpecResid, Value: uint32(rv)}, engine.Spec{ID: conv2dSpecRowResid, Value: uint32(rh)})...)
			grid := engine.Grid{X: ceilDiv(cols, conv2dLanes*t.px), Y: ceilDiv(g.n*rows, shape.clusters()*t.rowsPer()), Z: ceilDiv(g.c, conv2dLanes)}
			s.Dispatch(k, grid, g.push(0), withAddend([]*engine.Tensor{c.out, c.img, c.w}, c.addend)...)
		}
	}
}

// Conv2DBackwardWeight records the gradient of Conv2DForward with respect
// to its weight:
//
//	dw[o,c,a,b] = sum_{n,i,j} dy[n,o,i,j] * x[n,c, i*s+a-p, j*s+b-p]
//
// with x outside the image taken as 0. x is [N,C,H,W], dy is [N,OC,OH,OW],
// dw is [OC,C,k,k] and is overwritten (not accumulated). The sum runs in a
// fixed order (no atomics): results are bitwise reproducible. It runs as one
// pass of ceil(C/8)*ceil(OC/8) clusters (k <= 3), enough for a CPU driver
// with many input channels; a CPU driver takes conv2d_stem_weight for few
// input channels (see stemWeightRoute), split over the output rows into
// partial sums in a scratch the sequence owns, then added in chunk order.
// On a GPU prefer Conv2DBackwardWeightChunked, which splits the sum over
// the output rows into many more workgroups.
func Conv2DBackwardWeight(s *engine.Sequence, dw, x, dy *engine.Tensor, stride int) {
	const op = "conv2d backward weight"
	g, ok := conv2dWeightCheck(s, op, dw, x, dy, stride)
	if !ok || splitBatchSum(s, op, []*engine.Tensor{dw}, func(part batchPart, sums []*engine.Tensor) {
		Conv2DBackwardWeight(s, sums[0], part(x), part(dy), stride)
	}, x, dy) {
		return
	}
	// Few input channels on a CPU driver: the stem kernel, split over the
	// output rows into partial sums the sequence owns (one pass would leave
	// ceil(OC/lanes) workgroups, fewer than the cores).
	if t, ok := stemWeightRoute(s.Device(), g, stemWeightMaxChunks(g)); ok { // the default's chunks
		c := conv2dWeightCall{g: g, dw: dw, x: x, dy: dy}
		if chunks := t.chunks(g); chunks > 1 {
			c.partial = s.Scratch(op+": partial sums", engine.Float32, chunks, g.oc, g.c, g.k, g.k)
			if c.partial == nil {
				return
			}
		}
		recordConv2DStemWeight(s, c, t)
		return
	}
	conv2dWeightPartials(s, g, dw, x, dy, 1)
}

// conv2dWeightCheck checks the tensors of a weight gradient.
func conv2dWeightCheck(s *engine.Sequence, op string, dw, x, dy *engine.Tensor, stride int) (conv2dGeometry, bool) {
	g, ok := conv2dCheck(s, op, x, dy, dw, "x", "dy", "dw", stride)
	if ok && ceilDiv(g.c, conv2dLanes) > int(s.Device().Info.MaxWorkgroupCount[0]) {
		s.Fail(fmt.Errorf("%s: %d input channels exceed the device's %d workgroups in x", op, g.c, s.Device().Info.MaxWorkgroupCount[0]))
		return g, false
	}
	return g, ok
}

// conv2dOutTile is the number of output channels a backward-weight
// workgroup owns: its invocations hold outTile*k*k sums each.
func conv2dOutTile(k int) int { return min(conv2dLanes, max(1, 72/(k*k))) }

// conv2dWeightPartials records the backward-weight kernel writing chunks
// partial sums, each over ceil(N*OH/chunks) output rows, into partial
// ([chunks,OC,C,k,k]; dw itself when chunks is 1).
func conv2dWeightPartials(s *engine.Sequence, g conv2dGeometry, partial, x, dy *engine.Tensor, chunks int) {
	ot := conv2dOutTile(g.k)
	shape := clusterShapeOf(s.Device())
	k := shape.kernel(s, "conv2d_backward_weight", conv2dSpecLocal, append(g.tileSpecs(conv2dTile{px: conv2dPixels}), engine.Spec{ID: conv2dSpecOutTile, Value: uint32(ot)})...)
	rows := ceilDiv(g.n*g.oh, chunks)
	grid := engine.Grid{X: ceilDiv(ceilDiv(g.c, conv2dLanes), shape.clusters()), Y: ceilDiv(g.oc, ot), Z: chunks}
	s.Dispatch(k, grid, g.push(rows), partial, x, dy)
}
