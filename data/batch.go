package data

// Batch is one batch of samples, ready for upload.
type Batch struct {
	Images     []uint8 // [N][H][W][C]
	N, H, W, C int
	Labels     []int32   // [N], the class of each sample's own image
	Targets    []float32 // [N][classes] soft targets; nil with hard labels
	Index      int       // position of the batch in the epoch, from 0
	Indices    []int     // [N] dataset index of each sample
	Lambda     float64   // Mixup/CutMix weight of each sample's own image; 1 when not mixing
}

// reset shapes b for n samples of h x w x c (classes > 0 for soft targets),
// reusing its storage.
func (b *Batch) reset(index, n, h, w, c, classes int) {
	size := n * h * w * c
	if cap(b.Images) < size {
		b.Images = make([]uint8, size)
	}
	b.Images = b.Images[:size]
	b.N, b.H, b.W, b.C, b.Index, b.Lambda = n, h, w, c, index, 1
	b.Labels = resize(b.Labels, n)
	b.Indices = resize(b.Indices, n)
	if classes > 0 {
		b.Targets = resize(b.Targets, n*classes)
	} else {
		b.Targets = nil
	}
}

// resize returns s with length n, reallocated only when too small.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
