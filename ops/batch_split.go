package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// Splitting along the batch. A dispatch may bind at most
// engine.Device.MaxBindingBytes of one tensor (maxStorageBufferRange, and
// maxTexelBufferElements for texel views). When an operation's batch-major
// tensor ([N,...] activations and their gradients) is larger, the operation
// records itself once per slice of the batch, every batch-major tensor
// replaced by the same samples' slice (views made by engine.Tensor.Slice and
// owned by the sequence). Slices hold as many whole samples as fit the limit
// in every such tensor, rounded so that each slice starts on the device's
// offset alignment. Operations whose outputs sum over the batch write one
// row of partial sums per slice into scratch and add the rows in slice order
// (one Add per slice), so the result is deterministic, though not bitwise
// the unsplit kernel's, whose order of addition differs. An operation whose
// batch fits is recorded exactly as before.

// batchPart maps a batch-major tensor of an operation to its part in the
// slice being recorded.
type batchPart func(t *engine.Tensor) *engine.Tensor

// batchSplit is how an operation's batch is cut so that every binding fits.
type batchSplit struct {
	s   *engine.Sequence
	op  string
	n   int // samples in the batch
	per int // samples per slice; the last slice may hold fewer
}

// planBatchSplit decides whether op, binding the batch-major tensors batch,
// must be split. It returns nil when each of them fits one binding, or when
// they do not agree on the batch (the operation's own checks say so); failed
// reports an error recorded in s (a single sample beyond the limit).
func planBatchSplit(s *engine.Sequence, op string, batch ...*engine.Tensor) (split *batchSplit, failed bool) {
	if s.Err() != nil || len(batch) == 0 {
		return nil, false
	}
	d := s.Device()
	limit := d.MaxBindingBytes()
	n, over := 0, false
	for i, t := range batch {
		if t == nil || len(t.Shape) == 0 || (i > 0 && t.Shape[0] != n) {
			return nil, false
		}
		n = t.Shape[0]
		over = over || t.Bytes() > limit
	}
	if !over || n < 2 {
		if over {
			return nil, failSample(s, op, batch[0], limit)
		}
		return nil, false
	}
	align := uint64(d.OffsetAlignment())
	per, step := n, 1
	for _, t := range batch {
		sample := t.Bytes() / uint64(n)
		if sample > limit {
			return nil, failSample(s, op, t, limit)
		}
		per = min(per, int(limit/sample))
		step = lcm(step, int(align/gcd(sample, align)))
	}
	per = per / step * step
	if per == 0 {
		s.Fail(fmt.Errorf("%s: the batch of %s cannot be cut into slices that fit %s's binding limit of %s and start on its %d-byte offset alignment (slices of %d samples are needed for the alignment): use a smaller image size or batch",
			op, batch[0], d.Info.Name, engine.FormatBytes(limit), align, step))
		return nil, true
	}
	return &batchSplit{s: s, op: op, n: n, per: per}, false
}

// failSample records that one sample of t does not fit a binding.
func failSample(s *engine.Sequence, op string, t *engine.Tensor, limit uint64) bool {
	info := s.Device().Info
	s.Fail(fmt.Errorf("%s: one sample of %s takes %s, more than the %s one dispatch may bind on %s (maxStorageBufferRange %s, maxTexelBufferElements %d): the batch cannot be split below one image; use a smaller image size: %w",
		op, t, engine.FormatBytes(t.Bytes()/uint64(max(t.Shape[0], 1))), engine.FormatBytes(limit), info.Name,
		engine.FormatBytes(info.MaxStorageBufferRange), info.MaxTexelBufferElements, engine.ErrBindingTooLarge))
	return true
}

func gcd(a, b uint64) uint64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func lcm(a, b int) int { return a / int(gcd(uint64(a), uint64(b))) * b }

// slices is the number of slices.
func (b *batchSplit) slices() int { return ceilDiv(b.n, b.per) }

// each calls run for every slice in batch order, with the slice's index,
// its first sample and the map to its tensors' slices.
func (b *batchSplit) each(run func(k, first int, part batchPart)) {
	for k := 0; k < b.slices() && b.s.Err() == nil; k++ {
		first := k * b.per
		count := min(b.per, b.n-first)
		made := map[*engine.Tensor]*engine.Tensor{}
		part := func(t *engine.Tensor) *engine.Tensor {
			if v, ok := made[t]; ok {
				return v
			}
			sample := t.Len() / b.n
			shape := append([]int{count}, t.Shape[1:]...)
			v, err := t.Slice(fmt.Sprintf("%s[%d:%d]", t.Name, first, first+count), first*sample, shape...)
			if err != nil {
				b.s.Fail(fmt.Errorf("%s: batch split: %w", b.op, err))
			}
			b.s.Own(v)
			made[t] = v
			return v
		}
		run(k, first, part)
	}
}

// splitBatch records run once per slice of the batch when one of the
// batch-major tensors is too large to bind whole (run gets the map to the
// slices and the slice's first sample), and reports whether it took the
// operation over: split, or failed with an error in s. When it returns
// false nothing was recorded and the caller records the operation whole.
func splitBatch(s *engine.Sequence, op string, run func(part batchPart, first int), batch ...*engine.Tensor) bool {
	b, failed := planBatchSplit(s, op, batch...)
	if b == nil {
		return failed
	}
	b.each(func(_, first int, part batchPart) { run(part, first) })
	return true
}

// splitBatchSum is splitBatch for an operation whose outputs outs sum over
// the batch (weight gradients): run writes each slice's sums into that
// slice's row of a scratch, and the rows are added in slice order into
// outs.
func splitBatchSum(s *engine.Sequence, op string, outs []*engine.Tensor, run func(part batchPart, outs []*engine.Tensor), batch ...*engine.Tensor) bool {
	b, failed := planBatchSplit(s, op, batch...)
	if b == nil {
		return failed
	}
	rows := make([]*partialRows, len(outs))
	for i, o := range outs {
		rows[i] = b.partials(o)
	}
	b.each(func(k, _ int, part batchPart) {
		sliceOuts := make([]*engine.Tensor, len(outs))
		for i, r := range rows {
			sliceOuts[i] = r.row(k)
		}
		run(part, sliceOuts)
	})
	for i, o := range outs {
		b.sumRows(o, rows[i])
	}
	return true
}

// partialRows is a scratch of one row per slice, each shaped like the
// output the rows add up to, and a spare row for the running sum.
type partialRows struct {
	b      *batchSplit
	t      *engine.Tensor // [(slices+1) * stride] float32
	like   *engine.Tensor
	stride int // elements from one row to the next: like's, aligned
}

// partials allocates the rows of partial results for output like.
func (b *batchSplit) partials(like *engine.Tensor) *partialRows {
	align := b.s.Device().OffsetAlignment() / 4
	stride := ceilDiv(like.Len(), align) * align
	t := b.s.Scratch(fmt.Sprintf("%s: per-slice %s", b.op, like.Name), engine.Float32, (b.slices()+1)*stride)
	return &partialRows{b: b, t: t, like: like, stride: stride}
}

// row is row k (slice k's, or the spare at k = slices), shaped like the
// output.
func (r *partialRows) row(k int) *engine.Tensor {
	if r.t == nil {
		return nil
	}
	v, err := r.t.Slice(fmt.Sprintf("%s row %d", r.t.Name, k), k*r.stride, r.like.Shape...)
	if err != nil {
		r.b.s.Fail(fmt.Errorf("%s: batch split: %w", r.b.op, err))
		return nil
	}
	r.b.s.Own(v)
	return v
}

// sumRows records out = ((row 0 + row 1) + row 2) + ... in slice order,
// one Add per row, each binding only output-sized tensors (the rows
// together may exceed the binding limit). The running sum alternates
// between out and the spare row so that the last Add lands in out.
func (b *batchSplit) sumRows(out *engine.Tensor, r *partialRows) {
	last := b.slices() - 1
	cur, spare := r.row(0), r.row(last+1)
	for k := 1; k <= last && b.s.Err() == nil; k++ {
		dst := out
		if (last-k)%2 == 1 {
			dst = spare
		}
		Add(b.s, dst, cur, r.row(k))
		cur = dst
	}
}

// linearBackwardSplit records LinearBackward over slices of the batch when
// dy, x or dx is too large to bind whole: dx slice by slice, dw and db (when
// not nil) from per-slice partial sums. It reports whether it took the
// operation over (see splitBatch).
func linearBackwardSplit(s *engine.Sequence, op string, dx, dw, db, dy, x, w *engine.Tensor) bool {
	outs, batch := []*engine.Tensor{dw}, []*engine.Tensor{dy, x}
	if db != nil {
		outs = append(outs, db)
	}
	if dx != nil {
		batch = append(batch, dx)
	}
	return splitBatchSum(s, op, outs, func(part batchPart, sums []*engine.Tensor) {
		var sliceDX, sliceDB *engine.Tensor
		if dx != nil {
			sliceDX = part(dx)
		}
		if db != nil {
			sliceDB = sums[1]
		}
		LinearBackward(s, sliceDX, sums[0], sliceDB, part(dy), part(x), w)
	}, batch...)
}
