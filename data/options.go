package data

import (
	"fmt"
	"math"
	"runtime"
)

// Augment selects the training augmentations, applied per sample in the
// order crop, flip, RandAugment, then per batch Mix. The zero value is no
// augmentation.
type Augment struct {
	RandomResizedCrop bool       // random box, resized to the output size
	Crop              CropParams // its scale and ratio ranges; zero = (0.08, 1), (3/4, 4/3)
	HorizontalFlip    bool       // mirror with probability 1/2
	RandAugmentN      int        // operations per image; 0 turns RandAugment off
	RandAugmentM      float64    // magnitude, 0..30
	Mix               MixParams  // Mixup / CutMix / label smoothing
}

// Options configures a Loader for one epoch.
type Options struct {
	BatchSize int
	Shuffle   bool   // a permutation determined by (Seed, Epoch)
	Seed      uint64 // with Epoch and the sample index, determines every random choice
	Epoch     int
	// Size is the output height and width. 0 keeps the dataset's native size
	// (every image in a batch must then have the same size). Without
	// RandomResizedCrop, images of another size are resized so that the
	// shorter side is Size and center-cropped.
	Size     int
	Augment  Augment
	Workers  int  // goroutines building batches; 0 = min(4, GOMAXPROCS)
	Prefetch int  // batches ready or in progress ahead of Next; 0 = 2*Workers
	DropLast bool // drop a last batch smaller than BatchSize
	// FullSizeDecode decodes every image at its full size; otherwise a
	// dataset that can (ReducedDecoder: JPEGs in an ImageFolder) decodes at
	// a DCT scale whose shorter side is still at least Size.
	FullSizeDecode bool
	// SkipCorrupt replaces a sample whose image does not decode
	// (ErrCorruptImage) by the next good sample of the epoch and counts it
	// (Loader.Skipped) instead of failing.
	SkipCorrupt bool
}

// resolved returns the options with defaults filled in, or an error naming
// the first bad field.
func (o Options) resolved(ds Dataset) (Options, error) {
	if ds == nil || ds.Len() == 0 {
		return o, fmt.Errorf("data: loader: the dataset is empty")
	}
	if ds.NumClasses() <= 0 {
		return o, fmt.Errorf("data: loader: the dataset has %d classes", ds.NumClasses())
	}
	if o.BatchSize <= 0 {
		return o, fmt.Errorf("data: loader: BatchSize %d: want > 0", o.BatchSize)
	}
	if o.DropLast && ds.Len() < o.BatchSize {
		return o, fmt.Errorf("data: loader: %d samples make no full batch of %d with DropLast (lower BatchSize)", ds.Len(), o.BatchSize)
	}
	if o.Size < 0 {
		return o, fmt.Errorf("data: loader: Size %d: want >= 0 (0 = native size)", o.Size)
	}
	if o.Workers < 0 || o.Prefetch < 0 {
		return o, fmt.Errorf("data: loader: Workers %d, Prefetch %d: want >= 0 (0 = default)", o.Workers, o.Prefetch)
	}
	if o.Workers == 0 {
		o.Workers = min(4, runtime.GOMAXPROCS(0))
	}
	if o.Prefetch == 0 {
		o.Prefetch = 2 * o.Workers
	}
	a := &o.Augment
	if a.RandAugmentN < 0 || !(a.RandAugmentM >= 0 && a.RandAugmentM <= RandAugmentMaxMagnitude) {
		return o, fmt.Errorf("data: loader: RandAugment N=%d M=%g: want N >= 0 and M in 0..%d", a.RandAugmentN, a.RandAugmentM, RandAugmentMaxMagnitude)
	}
	a.Crop = a.Crop.withDefaults()
	if c := a.Crop; !(c.ScaleMin > 0 && c.ScaleMin <= c.ScaleMax && c.ScaleMax <= 1) ||
		!(c.RatioMin > 0 && c.RatioMin <= c.RatioMax && !math.IsInf(c.RatioMax, 0)) {
		return o, fmt.Errorf("data: loader: crop scale (%g, %g) ratio (%g, %g): want 0 < scale min <= max <= 1 and 0 < ratio min <= max",
			c.ScaleMin, c.ScaleMax, c.RatioMin, c.RatioMax)
	}
	if err := a.Mix.validate(); err != nil {
		return o, err
	}
	return o, nil
}
