package net

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/effv2vk/effv2vk/net/arch"
)

// Freezing keeps the first layers of a fine-tuned model fixed. With
// GraphConfig.Frozen = F, torchvision's features.0 (the stem) through
// features.F-1 are recorded as fixed functions: their batch norms use the
// running statistics (and do not update them), their blocks skip drop path,
// and the backward pass stops at the first trainable block, whose input
// gradient is not computed either. Their gradients are never written; an
// optimizer must leave their parameters out (FrozenPrefix says which).

// MaxFrozen is the largest Frozen cfg accepts: the stem, every stage and the
// head conv (features.len(Stages)+1), leaving only the classifier to train
// (linear probing).
func MaxFrozen(cfg arch.Config) int { return len(cfg.Stages) + 2 }

func checkFrozen(cfg arch.Config, gc GraphConfig) error {
	if gc.Frozen < 0 || gc.Frozen > MaxFrozen(cfg) {
		return fmt.Errorf("net: freeze %d: %s has the stem, %d stages and the head conv; freeze 0 (none) to %d", gc.Frozen, cfg.Name, len(cfg.Stages), MaxFrozen(cfg))
	}
	return nil
}

// layerMode is the batch-norm mode of the layers in features module
// feature: the graph's own, or running statistics when it is frozen.
func (g *Graph) layerMode(m *mode, feature int) *mode {
	if feature >= g.Config.Frozen {
		return m
	}
	fixed := *m
	fixed.train, fixed.updateRunning = false, false
	return &fixed
}

// IsFrozen reports whether the state_dict entry name belongs to the first
// frozen features modules (features.0 .. features.frozen-1).
func IsFrozen(name string, frozen int) bool {
	rest, ok := strings.CutPrefix(name, "features.")
	if !ok {
		return false
	}
	idx, _, _ := strings.Cut(rest, ".")
	n, err := strconv.Atoi(idx)
	return err == nil && n < frozen
}

// TrainableStarts returns where the trainable (not frozen) parameters
// begin in the store's weight-decay group and in its exempt group: element
// offsets in Params, aligned as every entry is. Torchvision's order puts
// features.0, features.1, ... first in each group, so the frozen parameters
// are a prefix of both; a group with nothing trainable starts at its end
// (DecayLen, or Params.Len()).
func (st *Store) TrainableStarts(frozen int) (decay, exempt int, err error) {
	decay, exempt = -1, -1
	for _, p := range st.Table {
		if !p.Trainable {
			continue
		}
		start := &decay
		if p.NoWeightDecay {
			start = &exempt
		}
		f := IsFrozen(p.Name, frozen)
		if f && *start >= 0 {
			return 0, 0, fmt.Errorf("net: frozen %s follows a trainable parameter in its group", p.Name)
		}
		if !f && *start < 0 {
			*start = p.Offset
		}
	}
	if decay < 0 {
		decay = st.DecayLen
	}
	if exempt < 0 {
		exempt = st.Params.Len()
	}
	return decay, exempt, nil
}
