package engine

import "fmt"

// Own hands t, a slice or a scratch tensor made for this recording only, to
// the sequence: Release frees it (its texel views with it) once the command
// buffer that refers to it is gone. Ops that split a dispatch along the
// batch own the slices they bind this way.
func (s *Sequence) Own(t *Tensor) {
	if t != nil {
		s.owned = append(s.owned, t)
	}
}

// Scratch allocates a tensor that lives as long as the sequence (freed by
// Release), for intermediate results of one recorded operation, such as the
// per-slice partial sums of a batch split. An allocation failure is
// recorded as the sequence's error and nil returned.
func (s *Sequence) Scratch(name string, dt DType, shape ...int) *Tensor {
	if s.err != nil {
		return nil
	}
	t, err := s.dev.NewTensor(name, dt, shape...)
	if err != nil {
		s.fail(fmt.Errorf("scratch for %s: %w", s.Name, err))
		return nil
	}
	s.owned = append(s.owned, t)
	return t
}

// freeOwned frees what Own and Scratch handed to the sequence, slices
// before the allocations they may view.
func (s *Sequence) freeOwned() {
	for i := len(s.owned) - 1; i >= 0; i-- {
		s.owned[i].Free()
	}
	s.owned = nil
}
