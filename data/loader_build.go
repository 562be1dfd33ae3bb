package data

import (
	"errors"
	"fmt"
	"math/rand/v2"
)

// worker holds one worker goroutine's scratch memory.
type worker struct {
	aug        augmenter
	mixScratch []uint8
}

// build fills b with batch index of the epoch.
func (l *Loader) build(w *worker, b *Batch, index int) error {
	start := index * l.opts.BatchSize
	end := min(start+l.opts.BatchSize, len(l.order))
	n := end - start
	classes := 0
	if l.opts.Augment.Mix.SoftTargets() {
		classes = l.ds.NumClasses()
	}
	c := l.ds.Channels()
	outH, outW := l.opts.Size, l.opts.Size
	for k := 0; k < n; k++ {
		pos := start + k
		idx, src, err := l.loadSample(pos)
		if err != nil {
			return err
		}
		if err := src.check(sampleName(l.ds, idx)); err != nil {
			return err
		}
		if k == 0 {
			if outH == 0 {
				outH, outW = src.H, src.W
			}
			b.reset(index, n, outH, outW, c, classes)
		}
		if src.C != c {
			return fmt.Errorf("data: %s has %d channels, the dataset says %d", sampleName(l.ds, idx), src.C, c)
		}
		label := l.ds.Label(idx)
		if label < 0 || label >= l.ds.NumClasses() {
			return fmt.Errorf("data: %s has label %d, want 0..%d", sampleName(l.ds, idx), label, l.ds.NumClasses()-1)
		}
		size := outH * outW * c
		dst := b.Images[k*size : (k+1)*size]
		rng := SampleRand(l.opts.Seed, l.opts.Epoch, l.order[pos])
		if err := l.transform(w, dst, src, outH, outW, rng, idx); err != nil {
			return err
		}
		b.Labels[k] = int32(label)
		b.Indices[k] = idx
	}
	if classes > 0 {
		rng := newRand(l.opts.Seed, l.opts.Epoch, index, streamMix)
		b.Targets, b.Lambda = mixBatch(b.Images, n, outH, outW, c, b.Labels, classes, l.opts.Augment.Mix, rng, b.Targets, &w.mixScratch)
	}
	return nil
}

// loadSample returns the image at epoch position pos, or, with SkipCorrupt,
// of the next position holding an image that decodes.
func (l *Loader) loadSample(pos int) (int, Image, error) {
	n := len(l.order)
	for k := 0; k < n; k++ {
		idx := l.order[(pos+k)%n]
		pix, h, w, err := l.image(idx)
		if err == nil {
			return idx, Image{Pix: pix, H: h, W: w, C: l.ds.Channels()}, nil
		}
		if !l.opts.SkipCorrupt || !errors.Is(err, ErrCorruptImage) {
			return idx, Image{}, err
		}
		l.recordSkip(idx)
	}
	return 0, Image{}, fmt.Errorf("data: every sample of the dataset is corrupt (%d skipped)", l.Skipped())
}

// image decodes dataset sample idx, at a reduced scale when the dataset
// offers one, the batch is resized to Options.Size anyway and
// FullSizeDecode is off.
func (l *Loader) image(idx int) ([]uint8, int, int, error) {
	if r, ok := l.ds.(ReducedDecoder); ok && l.opts.Size > 0 && !l.opts.FullSizeDecode {
		return r.ImageAtLeast(idx, l.opts.Size)
	}
	return l.ds.Image(idx)
}

// transform writes the augmented outH x outW version of src into dst.
func (l *Loader) transform(w *worker, dst []uint8, src Image, outH, outW int, rng *rand.Rand, idx int) error {
	a := l.opts.Augment
	var out Image
	switch {
	case a.RandomResizedCrop:
		out = resizeBox(dst, src, randomCropBox(src.H, src.W, a.Crop, rng), outH, outW)
	case src.H == outH && src.W == outW:
		out = Image{Pix: dst, H: outH, W: outW, C: src.C}
		copy(dst, src.Pix)
	case l.opts.Size == 0:
		return fmt.Errorf("data: %s is %dx%d but this batch is %dx%d; set Options.Size to resize",
			sampleName(l.ds, idx), src.H, src.W, outH, outW)
	default:
		out = resizeShorterCenterCrop(dst, src, outH)
	}
	if a.HorizontalFlip && rng.IntN(2) == 1 {
		HorizontalFlip(out)
	}
	if a.RandAugmentN > 0 {
		w.aug.randAugment(out, a.RandAugmentN, a.RandAugmentM, rng)
	}
	return nil
}
