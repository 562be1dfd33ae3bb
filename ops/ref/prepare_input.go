package ref

import "fmt"

// PrepareInput turns a batch of 8-bit images into the network's input, in
// this order:
//
//  1. layout: src is [n,h,w,c] (NHWC) uint8 with c = 1 (gray) or 3 (RGB); a
//     gray value is repeated into all three channels;
//  2. normalize each pixel: v[n,ch,y,x] = (src/255 - mean[ch]) / std[ch];
//  3. resize the normalized [n,3,h,w] tensor to [n,3,outH,outW] with
//     ResizeBilinear (PyTorch bilinear, align_corners=False, no antialias).
//
// Normalizing before resizing gives the same values as after (both are
// affine per channel and the bilinear weights sum to 1) up to rounding; this
// reference normalizes first. The result is a new [n,3,outH,outW] slice.
func PrepareInput(src []uint8, n, h, w, c, outH, outW int, mean, std [3]float64) []float64 {
	const op = "prepare input"
	if c != 1 && c != 3 {
		panic(fmt.Sprintf("ref: %s: %d channels: want 1 (gray) or 3 (RGB)", op, c))
	}
	mustLen(op, "src", len(src), n*h*w*c)
	xs := Shape4{N: n, C: 3, H: h, W: w}
	x := make([]float64, xs.Len())
	for b := range n {
		for ch := range 3 {
			from := ch
			if c == 1 {
				from = 0
			}
			for r := range h {
				for q := range w {
					v := float64(src[((b*h+r)*w+q)*c+from]) / 255
					x[xs.Index(b, ch, r, q)] = (v - mean[ch]) / std[ch]
				}
			}
		}
	}
	y, _ := ResizeBilinear(x, xs, outH, outW)
	return y
}
