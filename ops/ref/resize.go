package ref

import "fmt"

// ResizeBilinear resizes each channel of x [N,C,H,W] (xs) to outH x outW with
// PyTorch's F.interpolate(mode='bilinear', align_corners=False,
// antialias=False) semantics. Along each axis, with in the input extent and
// out the output extent:
//
//	scale = in / out
//	src   = max((dst + 0.5) * scale - 0.5, 0)
//	i0    = min(floor(src), in-1);  i1 = i0 + 1 if i0 < in-1, else i0
//	l1    = src - i0;  l0 = 1 - l1
//
// and then
//
//	y[n,c,i,j] = lh0 * (lw0 * x[n,c,h0,w0] + lw1 * x[n,c,h0,w1])
//	           + lh1 * (lw0 * x[n,c,h1,w0] + lw1 * x[n,c,h1,w1])
//
// Downscaling reads only the two nearest source pixels per axis (no
// antialiasing). y is a new [N,C,outH,outW] tensor, returned with its shape.
func ResizeBilinear(x []float64, xs Shape4, outH, outW int) ([]float64, Shape4) {
	const op = "resize bilinear"
	mustLen(op, "x", len(x), xs.Len())
	if outH < 1 || outW < 1 || xs.H < 1 || xs.W < 1 {
		panic(fmt.Sprintf("ref: %s: %v to %dx%d: every extent must be at least 1", op, xs, outH, outW))
	}
	ys := Shape4{N: xs.N, C: xs.C, H: outH, W: outW}
	rows := bilinearTaps(xs.H, outH)
	cols := bilinearTaps(xs.W, outW)
	y := make([]float64, ys.Len())
	for n := range ys.N {
		for c := range ys.C {
			for i, r := range rows {
				for j, q := range cols {
					top := q.l0*x[xs.Index(n, c, r.i0, q.i0)] + q.l1*x[xs.Index(n, c, r.i0, q.i1)]
					bottom := q.l0*x[xs.Index(n, c, r.i1, q.i0)] + q.l1*x[xs.Index(n, c, r.i1, q.i1)]
					y[ys.Index(n, c, i, j)] = r.l0*top + r.l1*bottom
				}
			}
		}
	}
	return y, ys
}

// bilinearTap is where one output coordinate reads along one axis: source
// indices i0, i1 and their weights l0, l1.
type bilinearTap struct {
	i0, i1 int
	l0, l1 float64
}

// bilinearTaps computes the taps of every output coordinate of an axis
// resized from in to out, as ResizeBilinear documents.
func bilinearTaps(in, out int) []bilinearTap {
	scale := float64(in) / float64(out)
	taps := make([]bilinearTap, out)
	for d := range out {
		src := max((float64(d)+0.5)*scale-0.5, 0)
		i0 := min(int(src), in-1)
		i1 := i0
		if i0 < in-1 {
			i1 = i0 + 1
		}
		l1 := min(max(src-float64(i0), 0), 1)
		taps[d] = bilinearTap{i0: i0, i1: i1, l0: 1 - l1, l1: l1}
	}
	return taps
}
