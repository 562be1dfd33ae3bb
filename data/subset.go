package data

import "fmt"

// SubsetDataset is a view of another dataset through a list of indices.
type SubsetDataset struct {
	parent  Dataset
	indices []int
}

// Subset returns the samples of ds at indices, in that order (repeats are
// allowed). It fails when an index is outside [0, ds.Len()).
func Subset(ds Dataset, indices []int) (*SubsetDataset, error) {
	n := ds.Len()
	for k, i := range indices {
		if i < 0 || i >= n {
			return nil, fmt.Errorf("data: Subset: indices[%d] = %d is outside [0, %d)", k, i, n)
		}
	}
	return &SubsetDataset{parent: ds, indices: append([]int(nil), indices...)}, nil
}

// Len returns the number of indices in the subset.
func (s *SubsetDataset) Len() int { return len(s.indices) }

// NumClasses returns the parent's number of classes.
func (s *SubsetDataset) NumClasses() int { return s.parent.NumClasses() }

// ClassNames returns the parent's class names.
func (s *SubsetDataset) ClassNames() []string { return s.parent.ClassNames() }

// Channels returns the parent's channel count.
func (s *SubsetDataset) Channels() int { return s.parent.Channels() }

// Image returns the parent's image at indices[i].
func (s *SubsetDataset) Image(i int) ([]uint8, int, int, error) {
	if err := checkIndex("subset", i, len(s.indices)); err != nil {
		return nil, 0, 0, err
	}
	return s.parent.Image(s.indices[i])
}

// Label returns the parent's label at indices[i].
func (s *SubsetDataset) Label(i int) int { return s.parent.Label(s.indices[i]) }

// Name names sample i after the parent's sample.
func (s *SubsetDataset) Name(i int) string { return sampleName(s.parent, s.indices[i]) }

// ImageAtLeast returns the parent's image at indices[i], at a reduced scale
// when the parent can decode one (ReducedDecoder), else at full size.
func (s *SubsetDataset) ImageAtLeast(i, minSide int) ([]uint8, int, int, error) {
	if err := checkIndex("subset", i, len(s.indices)); err != nil {
		return nil, 0, 0, err
	}
	if r, ok := s.parent.(ReducedDecoder); ok {
		return r.ImageAtLeast(s.indices[i], minSide)
	}
	return s.parent.Image(s.indices[i])
}
