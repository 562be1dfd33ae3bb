package ops_test

import (
	"fmt"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
)

// TestSqueezeExciteBackwardFused checks the two-pass squeeze-excite input
// gradient against ChannelScaleBackward + GlobalAvgPoolBackward + Add: the
// gate gradient bitwise (same kernel, same order), dx within 1e-6 of the
// largest value (dy*sc + dpooled/(H*W) may be one fused multiply-add where
// the unfused path rounds the product first). H*W a multiple of 4 and not.
func TestSqueezeExciteBackwardFused(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	for _, shape := range [][4]int{{2, 6, 4, 4}, {3, 5, 3, 5}, {1, 9, 8, 8}} {
		t.Run(fmt.Sprint(shape), func(t *testing.T) {
			n, c, h, w := shape[0], shape[1], shape[2], shape[3]
			_, dyv := randSlice(r, n*c*h*w)
			_, xv := randSlice(r, n*c*h*w)
			_, gv := randSlice(r, n*c)
			_, dpv := randSlice(r, n*c)
			dy, x := upload(t, d, "dy", dyv, n, c, h, w), upload(t, d, "x", xv, n, c, h, w)
			g, dp := upload(t, d, "gate", gv, n, c), upload(t, d, "dpooled", dpv, n, c)
			dxScale, dxPool, dx := poisoned(t, d, "dx scale", n, c, h, w), poisoned(t, d, "dx pool", n, c, h, w), poisoned(t, d, "dx", n, c, h, w)
			dg, dgFused := poisoned(t, d, "dg", n, c), poisoned(t, d, "dg fused", n, c)
			dxFused := poisoned(t, d, "dx fused", n, c, h, w)
			run(t, d, func(s *engine.Sequence) {
				ops.ChannelScaleBackward(s, dxScale, dg, dy, x, g)
				ops.GlobalAvgPoolBackward(s, dxPool, dp)
				ops.Add(s, dx, dxScale, dxPool)
				ops.ChannelScaleBackwardGate(s, dgFused, dy, x)
				ops.SqueezeExciteBackwardData(s, dxFused, dy, g, dp)
			})
			sameBits(t, "gate gradient", download(t, dgFused), download(t, dg))
			compare(t, "dx", download(t, dxFused), download(t, dx), 1e-6)
		})
	}
	wantRecordErrors(t, d, []errorCase{
		{"dpooled shape", func(s *engine.Sequence) {
			ops.SqueezeExciteBackwardData(s, newTensor(t, d, engine.Float32, 2, 3, 4, 4), newTensor(t, d, engine.Float32, 2, 3, 4, 4),
				newTensor(t, d, engine.Float32, 2, 3), newTensor(t, d, engine.Float32, 2, 4))
		}, "dpooled"},
		{"dy shape", func(s *engine.Sequence) {
			ops.ChannelScaleBackwardGate(s, newTensor(t, d, engine.Float32, 2, 3), newTensor(t, d, engine.Float32, 2, 3, 4, 5),
				newTensor(t, d, engine.Float32, 2, 3, 4, 4))
		}, "dy"},
	})
}
