package ref

import "testing"

func TestResizeBilinearSameSizeIsIdentity(t *testing.T) {
	xs := Shape4{2, 3, 5, 7}
	x := randSlice(newRand(91), xs.Len())
	y, ys := ResizeBilinear(x, xs, 5, 7)
	if ys != xs {
		t.Fatalf("shape %v, want %v", ys, xs)
	}
	assertClose(t, "y", y, x, 0)
}

// Hand-computed PyTorch align_corners=False values along one axis.
func TestResizeBilinearAxis(t *testing.T) {
	up, _ := ResizeBilinear([]float64{0, 4}, Shape4{1, 1, 1, 2}, 1, 4)
	assertClose(t, "2 -> 4", up, []float64{0, 1, 3, 4}, 1e-15)
	down, _ := ResizeBilinear([]float64{0, 1, 2, 3}, Shape4{1, 1, 4, 1}, 2, 1)
	assertClose(t, "4 -> 2", down, []float64{0.5, 2.5}, 1e-15)
	// 3 -> 2: scale 1.5, sources 0.25 and 1.75.
	odd, _ := ResizeBilinear([]float64{0, 10, 30}, Shape4{1, 1, 1, 3}, 1, 2)
	assertClose(t, "3 -> 2", odd, []float64{2.5, 25}, 1e-15)
}

func TestPrepareInputGrayAndNormalize(t *testing.T) {
	mean := [3]float64{0.485, 0.456, 0.406}
	std := [3]float64{0.229, 0.224, 0.225}
	src := []uint8{0, 51, 255, 128, 7, 200} // 1 image, 2x3, gray
	y := PrepareInput(src, 1, 2, 3, 1, 2, 3, mean, std)
	ys := Shape4{1, 3, 2, 3}
	for ch := range 3 {
		for i := range 2 {
			for j := range 3 {
				want := (float64(src[i*3+j])/255 - mean[ch]) / std[ch]
				if got := y[ys.Index(0, ch, i, j)]; !closeTo(got, want, 1e-15, 1e-15) {
					t.Fatalf("y[0,%d,%d,%d] = %v, want %v", ch, i, j, got, want)
				}
			}
		}
	}
	// RGB: NHWC channel order is kept.
	rgb := PrepareInput([]uint8{255, 0, 51}, 1, 1, 1, 3, 1, 1, [3]float64{}, [3]float64{1, 1, 1})
	assertClose(t, "rgb", rgb, []float64{1, 0, 0.2}, 1e-15)
}

func TestPrepareInputPanicsOnTwoChannels(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("no panic for 2 channels")
		}
	}()
	PrepareInput(make([]uint8, 8), 1, 2, 2, 2, 2, 2, [3]float64{}, [3]float64{1, 1, 1})
}
