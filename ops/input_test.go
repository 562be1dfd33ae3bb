package ops_test

import (
	"fmt"
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
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%dx%dx%dx%d->%dx%d", c.n, c.h, c.w, c.c, c.oh, c.ow), func(t *testing.T) {
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
}

func TestPrepareInputErrors(t *testing.T) {
	d := enginetest.Open(t)
	src, err := d.NewTensor("src", engine.Uint8, 2, 8, 8, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(src.Free)
	gray, err := d.NewTensor("gray", engine.Uint8, 2, 8, 8, 1)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(gray.Free)
	one := [3]float32{1, 1, 1}
	cases := map[string]func(s *engine.Sequence){
		"two channels": func(s *engine.Sequence) { ops.PrepareInput(s, poisoned(t, d, "y", 2, 3, 4, 4), src, one, one) },
		"float source": func(s *engine.Sequence) {
			ops.PrepareInput(s, poisoned(t, d, "y", 2, 3, 4, 4), poisoned(t, d, "x", 2, 8, 8, 1), one, one)
		},
		"batch": func(s *engine.Sequence) { ops.PrepareInput(s, poisoned(t, d, "y", 3, 3, 4, 4), gray, one, one) },
		"zero std": func(s *engine.Sequence) {
			ops.PrepareInput(s, poisoned(t, d, "y", 2, 3, 4, 4), gray, one, [3]float32{1, 0, 1})
		},
	}
	for name, rec := range cases {
		s, err := d.NewSequence(name, engine.SequenceOptions{})
		if err != nil {
			t.Fatal(err)
		}
		rec(s)
		if err := s.Finish(); err == nil {
			t.Errorf("%s: no error", name)
		}
		s.Release()
	}
}
