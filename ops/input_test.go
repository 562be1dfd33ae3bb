package ops_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/ops/ref"
)

func TestPrepareInput(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	mean := [3]float32{0.485, 0.456, 0.406}
	std := [3]float32{0.229, 0.224, 0.225}
	cases := []struct{ n, h, w, c, oh, ow int }{
		{1, 1, 1, 1, 1, 1},
		{1, 1, 1, 3, 3, 5},
		{2, 28, 28, 1, 128, 128}, // Fashion-MNIST, upscaled
		{2, 224, 224, 3, 128, 128},
		{1, 7 + 2*r.IntN(10), 5 + 2*r.IntN(10), 3, 9 + 2*r.IntN(20), 11 + 2*r.IntN(20)}, // odd, scalar path
		{3, 13, 31, 1, 16, 8},
		{1, 9, 9, 3, 9, 9}, // same size
		// Upscaled 3x or more (the _narrow kernel): RGB, the source's
		// last columns, gray rows not starting on a word.
		{2, 9, 7, 3, 12, 24},
		{1, 5, 3, 3, 8, 12},
		{3, 5, 5, 1, 7, 16},
		// Resized by less than 2x (the _pairs kernels): RGB rows not
		// starting on a word, gray, upscaled, the source's last columns.
		{1, 11, 13, 3, 8, 8},
		{2, 7, 15, 1, 5, 12},
		{1, 6, 6, 3, 10, 16},
		{1, 4, 7, 3, 3, 8},
		// 2x or more smaller: every tap's pixel read alone.
		{1, 9, 40, 3, 4, 16},
		{1, 5, 20, 1, 3, 4},
	}
	// The CPU driver's choices (8 pixels per invocation, written as
	// u64vec4s, on lavapipe) and the GPUs' (vec4s).
	for _, gpu := range []string{"", "1"} {
		t.Setenv(ops.GPUChoicesEnv, gpu)
		for _, c := range cases {
			checkPrepareInput(t, d, r, c, mean, std)
		}
	}
}

// checkPrepareInput runs PrepareInput on random bytes of one geometry and
// compares it with the float64 reference.
func checkPrepareInput(t *testing.T, d *engine.Device, r *rand.Rand, c struct{ n, h, w, c, oh, ow int }, mean, std [3]float32) {
	t.Helper()
	choices := "cpu"
	if os.Getenv(ops.GPUChoicesEnv) == "1" {
		choices = "gpu"
	}
	t.Run(fmt.Sprintf("%s/%dx%dx%dx%d->%dx%d", choices, c.n, c.h, c.w, c.c, c.oh, c.ow), func(t *testing.T) {
		pix := make([]uint8, c.n*c.h*c.w*c.c)
		for i := range pix {
			pix[i] = uint8(r.IntN(256))
		}
		pix[0], pix[len(pix)-1] = 0, 255
		src, err := d.NewTensor("src", engine.Uint8, c.n, c.h, c.w, c.c)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(src.Free)
		if err := src.Upload(pix); err != nil {
			t.Fatal(err)
		}
		y := poisoned(t, d, "y", c.n, 3, c.oh, c.ow)
		run(t, d, func(s *engine.Sequence) { ops.PrepareInput(s, y, src, mean, std) })
		var m64, s64 [3]float64
		for i := range 3 {
			m64[i], s64[i] = float64(mean[i]), float64(std[i])
		}
		compare(t, "input", download(t, y), ref.PrepareInput(pix, c.n, c.h, c.w, c.c, c.oh, c.ow, m64, s64), 1e-5)
	})
}

// TestTunedPrepareInputVariantsMatchReference forces every variant of
// PrepareInput in turn, with the CPU driver's and the GPUs' default
// choices (ops.GPUChoicesEnv), and checks it against the float64
// reference; each variant must have been eligible for at least one shape
// and default.
func TestTunedPrepareInputVariantsMatchReference(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	mean := [3]float32{0.485, 0.456, 0.406}
	std := [3]float32{0.229, 0.224, 0.225}
	cases := []struct{ n, h, w, c, oh, ow int }{
		{1, 11, 13, 3, 8, 8}, // pairs, 8 columns
		{3, 5, 5, 1, 7, 16},  // narrow, 16 columns
		{1, 9, 40, 3, 4, 16}, // every tap alone
		{2, 7, 15, 1, 5, 12}, // pairs, 12 columns: vec4 only
		{1, 7, 5, 3, 9, 11},  // one pixel per invocation
	}
	const op = "prepare_input"
	for _, v := range ops.TunedVariants()[op] {
		t.Run(v, func(t *testing.T) {
			used := false
			for _, gpu := range []string{"", "1"} {
				t.Setenv(ops.GPUChoicesEnv, gpu)
				forceTuning(t, op, v)
				for _, c := range cases {
					checkPrepareInput(t, d, r, c, mean, std)
				}
				used = used || forcedUsed(d, op, v)
			}
			if !used {
				t.Fatalf("variant %s of %s never eligible for the test shapes: add a shape that exercises it", v, op)
			}
		})
	}
}

func TestPrepareInputErrors(t *testing.T) {
	d := enginetest.Open(t)
	src := newTensor(t, d, engine.Uint8, 2, 8, 8, 2)
	gray := newTensor(t, d, engine.Uint8, 2, 8, 8, 1)
	y := poisoned(t, d, "y", 2, 3, 4, 4)
	one := [3]float32{1, 1, 1}
	wantRecordErrors(t, d, []errorCase{
		{"two channels", func(s *engine.Sequence) { ops.PrepareInput(s, y, src, one, one) }, "prepare input: source t uint8[2 8 8 2] must be NHWC"},
		{"3-D source", func(s *engine.Sequence) { ops.PrepareInput(s, y, newTensor(t, d, engine.Uint8, 2, 8, 8), one, one) }, "prepare input: source t uint8[2 8 8] must be NHWC"},
		{"float source", func(s *engine.Sequence) { ops.PrepareInput(s, y, poisoned(t, d, "x", 2, 8, 8, 1), one, one) }, "prepare input: src x float32[2 8 8 1] must hold uint8"},
		{"int output", func(s *engine.Sequence) {
			ops.PrepareInput(s, newTensor(t, d, engine.Int32, 2, 3, 4, 4), gray, one, one)
		}, "prepare input: y t int32[2 3 4 4] must hold float32"},
		{"3-D output", func(s *engine.Sequence) { ops.PrepareInput(s, poisoned(t, d, "y3", 2, 3, 16), gray, one, one) }, "prepare input: y3 float32[2 3 16] must be 4-D"},
		{"batch", func(s *engine.Sequence) { ops.PrepareInput(s, poisoned(t, d, "y", 3, 3, 4, 4), gray, one, one) }, "prepare input: output y float32[3 3 4 4] must be [2,3,outH,outW]"},
		{"one output channel", func(s *engine.Sequence) { ops.PrepareInput(s, poisoned(t, d, "y", 2, 1, 4, 4), gray, one, one) }, "prepare input: output y float32[2 1 4 4] must be [2,3,outH,outW]"},
		{"zero std", func(s *engine.Sequence) { ops.PrepareInput(s, y, gray, one, [3]float32{1, 0, 1}) }, "prepare input: std[1] is zero"},
		{"too many pixels", func(s *engine.Sequence) {
			ops.PrepareInput(s, newTensor(t, d, engine.Float32, 1, 3, 2048, 2049), newTensor(t, d, engine.Uint8, 1, 8, 8, 1), one, one)
		}, "prepare input: 1 images of 2048x2049: too large for one dispatch"},
	})
}
