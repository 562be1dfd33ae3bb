package data

import (
	"errors"
	"fmt"
)

// Dataset is a random-access collection of labelled uint8 images.
//
// Image returns the pixels of sample i in HWC order (h*w*Channels() bytes)
// with its height and width. The returned slice may be shared with the
// dataset: callers must not modify it. Label returns the class of sample i in
// [0, NumClasses()); it may panic for i outside [0, Len()), like a slice.
type Dataset interface {
	Len() int
	NumClasses() int
	ClassNames() []string
	Channels() int
	Image(i int) (pix []uint8, h, w int, err error)
	Label(i int) int
}

// Namer is implemented by datasets whose samples have names (file paths);
// error messages use it to say which sample is bad.
type Namer interface {
	Name(i int) string
}

// ReducedDecoder is implemented by datasets that can decode an image at a
// reduced size whose shorter side is still at least minSide pixels (JPEG's
// DCT scaling). The loader uses it when it resizes to Options.Size anyway.
type ReducedDecoder interface {
	ImageAtLeast(i, minSide int) (pix []uint8, h, w int, err error)
}

// ErrCorruptImage is wrapped by errors for samples whose bytes cannot be
// decoded. Loader.Options.SkipCorrupt skips such samples instead of failing.
var ErrCorruptImage = errors.New("corrupt image")

// sampleName names sample i of ds for error messages.
func sampleName(ds Dataset, i int) string {
	if n, ok := ds.(Namer); ok {
		return n.Name(i)
	}
	return fmt.Sprintf("sample %d", i)
}

// checkIndex returns an error when i is not a valid index of a dataset of n
// samples; what names the dataset.
func checkIndex(what string, i, n int) error {
	if i < 0 || i >= n {
		return fmt.Errorf("data: %s: index %d out of range [0, %d)", what, i, n)
	}
	return nil
}
