package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// depthwiseCall is one recorded depthwise operation: forward (out y, img x,
// wt w, ep its fused epilogue or nil), backward data (out dy, img dx, wt w)
// or backward weight (out dy, img x, wt dw).
type depthwiseCall struct {
	g            depthwiseGeometry
	stride       int
	out, img, wt *engine.Tensor
	ep           *Epilogue
}

// depthwiseShapeChange is one tuned variant of the depthwise kernels: the
// device's default shape, changed.
type depthwiseShapeChange struct {
	name   string
	change func(d *engine.Device, sh depthwiseShape) depthwiseShape
	// planes: only for the operations with several planes per
	// invocation (forward, backward data).
	planes bool
	// backwardData: only for backward data.
	backwardData bool
}

func withRows(rows int) func(*engine.Device, depthwiseShape) depthwiseShape {
	return func(_ *engine.Device, sh depthwiseShape) depthwiseShape { sh.rows = rows; return sh }
}

func withPlanes(per int) func(*engine.Device, depthwiseShape) depthwiseShape {
	return func(_ *engine.Device, sh depthwiseShape) depthwiseShape { sh.per = per; return sh }
}

func imageStores(_ *engine.Device, sh depthwiseShape) depthwiseShape {
	sh.imageStores = true
	return sh
}

func byImage(_ *engine.Device, sh depthwiseShape) depthwiseShape { sh.byImage = true; return sh }

func withLocal(local func(d *engine.Device) int) func(*engine.Device, depthwiseShape) depthwiseShape {
	return func(d *engine.Device, sh depthwiseShape) depthwiseShape { sh.local = local(d); return sh }
}

// depthwiseShapeChanges are the depthwise variants: "auto" (the device's
// default), other tile heights, planes per invocation and workgroup
// sizes, an invocation's planes one channel's in several images (the
// default: consecutive planes), vec4 rows written through a texel view,
// every input element read alone, and backward data's rows written as
// 8 floats (u64vec4) or as vec4s.
var depthwiseShapeChanges = []depthwiseShapeChange{
	{name: "auto", change: func(_ *engine.Device, sh depthwiseShape) depthwiseShape { return sh }},
	{name: "rows4", change: withRows(4)},
	{name: "rows8", change: withRows(8)},
	{name: "rows16", change: withRows(16)},
	{name: "planes1", change: withPlanes(1), planes: true},
	{name: "planes4", change: withPlanes(4), planes: true},
	{name: "planes16", change: withPlanes(16), planes: true},
	{name: "planes64", change: withPlanes(64), planes: true},
	{name: "by_image", change: byImage, planes: true},
	{name: "image_stores", change: imageStores, planes: true},
	{name: "local_subgroup", change: withLocal(func(d *engine.Device) int { return int(d.Info.SubgroupSize) })},
	{name: "local64", change: withLocal(func(*engine.Device) int { return 64 })},
	{name: "scalar_loads", change: func(_ *engine.Device, sh depthwiseShape) depthwiseShape { sh.scalarLoads = true; return sh }},
	{name: "u64_stores", change: withU64Stores(true), backwardData: true},
	{name: "vec4_stores", change: withU64Stores(false), backwardData: true},
}

// withU64Stores sets whether backward data writes 8-float rows where it
// can (its _u64 kernel).
func withU64Stores(on bool) func(*engine.Device, depthwiseShape) depthwiseShape {
	return func(_ *engine.Device, sh depthwiseShape) depthwiseShape { sh.u64Stores = on; return sh }
}

// depthwiseOp is one of the three depthwise operations as the tuner sees it.
type depthwiseOp struct {
	name   string // shader-index operation: forward, backward_data, backward_weight
	planes bool   // several planes per invocation
	record func(sh depthwiseShape, s *engine.Sequence, c depthwiseCall)
	// extent is the height the tiles cover.
	extent func(c depthwiseCall) int
}

// extentWidth is the width of the tensor op's tiles cover.
func (op depthwiseOp) extentWidth(c depthwiseCall) int {
	if op.name == "backward_data" {
		return c.g.w
	}
	return c.g.ow
}

var (
	depthwiseForwardTuned = newDepthwiseTuned(depthwiseOp{name: "forward", planes: true,
		record: depthwiseShape.recordForward, extent: func(c depthwiseCall) int { return c.g.oh }})
	depthwiseBackwardDataTuned = newDepthwiseTuned(depthwiseOp{name: "backward_data", planes: true,
		record: depthwiseShape.recordBackwardData, extent: func(c depthwiseCall) int { return c.g.h }})
	depthwiseBackwardWeightTuned = newDepthwiseTuned(depthwiseOp{name: "backward_weight",
		record: depthwiseShape.recordBackwardWeight, extent: func(c depthwiseCall) int { return c.g.oh }})
)

func init() {
	tunedOps = append(tunedOps, depthwiseForwardTuned, depthwiseBackwardDataTuned, depthwiseBackwardWeightTuned)
}

// depthwiseChangeFits reports whether change is a variant of op for c on
// d: its shape fits the device and the stride, and records a different
// dispatch than the default ("auto" always fits).
func depthwiseChangeFits(op depthwiseOp, change depthwiseShapeChange, d *engine.Device, c depthwiseCall) bool {
	if change.name == "auto" {
		return true
	}
	def := depthwiseDefaultShape(d)
	sh := change.change(d, def)
	if sh.local < 1 || sh.local > int(d.Info.MaxWorkgroupInvocation) || sh.rows%c.stride != 0 {
		return false
	}
	tilesDiffer := ceilDiv(op.extent(c), sh.rows) != ceilDiv(op.extent(c), def.rows)
	groupsDiffer := op.planes && (sh.groups(c.g) != def.groups(c.g) || sh.byImage != def.byImage)
	storesDiffer := op.planes && sh.imageStores != def.imageStores && op.extentWidth(c)%4 == 0
	if op.name == "backward_data" && sh.u64(d, c) != def.u64(d, c) {
		storesDiffer = true
	}
	loadsDiffer := sh.vec4Loads(d, op.name, c) != def.vec4Loads(d, op.name, c)
	return tilesDiffer || groupsDiffer || storesDiffer || loadsDiffer || sh.local != def.local
}

func newDepthwiseTuned(op depthwiseOp) *tunedOp[depthwiseCall] {
	t := &tunedOp[depthwiseCall]{
		op:             "depthwise_" + op.name,
		defaultVariant: func(*engine.Device, depthwiseCall) string { return "auto" },
		shape: func(c depthwiseCall) string {
			return fmt.Sprintf("n=%d c=%d h=%d w=%d k=%d stride=%d%s", c.g.n, c.g.c, c.g.h, c.g.w, c.g.k, c.stride, epilogueVariant(c.ep))
		},
		scratch: func(d *engine.Device, c depthwiseCall) (depthwiseCall, func(), error) {
			ts, ep, free, err := scratchWithEpilogue(d, c.ep, c.out, c.img, c.wt)
			if err != nil {
				return c, nil, err
			}
			c.out, c.img, c.wt, c.ep = ts[0], ts[1], ts[2], ep
			return c, free, nil
		},
	}
	for _, ch := range depthwiseShapeChanges {
		if ch.planes && !op.planes || ch.backwardData && op.name != "backward_data" {
			continue
		}
		t.variants = append(t.variants, variant[depthwiseCall]{
			name: ch.name,
			kernels: func(d *engine.Device, c depthwiseCall) []string {
				if op.name == "backward_data" {
					name, _ := ch.change(d, depthwiseDefaultShape(d)).backwardDataKernel(d, c)
					return []string{name}
				}
				return []string{depthwiseKernelName(op.name, c.g.k, c.stride, c.ep)}
			},
			eligible: func(d *engine.Device, c depthwiseCall) bool { return depthwiseChangeFits(op, ch, d, c) },
			record: func(s *engine.Sequence, c depthwiseCall) {
				op.record(ch.change(s.Device(), depthwiseDefaultShape(s.Device())), s, c)
			},
		})
	}
	return t
}
