package train

import (
	"fmt"

	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/optim"
)

// checkFreeze checks --freeze against the model.
func (r *run) checkFreeze() error {
	f, most := r.cfg.Freeze, net.MaxFrozen(r.mc)
	if f < 0 || f > most {
		return fmt.Errorf("train: --freeze %d: %s has the stem (features.0), %d stages and the head conv (features.%d); freeze 0 (none) to %d (all of them: only the classifier trains)", f, r.mc.Name, len(r.mc.Stages), len(r.mc.Stages)+1, most)
	}
	if f > 0 && r.cfg.Init == "" {
		r.warn("--freeze %d without --init keeps randomly initialized layers fixed", f)
	}
	return nil
}

// parameterGroups cuts the store into the optimizer's groups: weight-decayed
// and exempt parameters, each without its frozen prefix (--freeze), so the
// optimizer never touches a frozen parameter.
func (r *run) parameterGroups() ([]optim.Group, error) {
	st := r.model.Store
	wd := float32(r.cfg.WeightDecay)
	if r.cfg.Freeze == 0 {
		return optim.SplitDecay(r.dev, st.Params, st.Grads, st.DecayLen, wd)
	}
	decayStart, exemptStart, err := st.TrainableStarts(r.cfg.Freeze)
	if err != nil {
		return nil, err
	}
	var groups []optim.Group
	add := func(name string, from, to int, wd float32) error {
		if to <= from {
			return nil
		}
		p, err := st.Params.Slice(st.Params.Name+"/"+name, from, to-from)
		if err != nil {
			return err
		}
		g, err := st.Grads.Slice(st.Grads.Name+"/"+name, from, to-from)
		if err != nil {
			p.Free()
			return err
		}
		groups = append(groups, optim.Group{Params: p, Grads: g, WeightDecay: wd})
		return nil
	}
	if err := add("decay", decayStart, st.DecayLen, wd); err != nil {
		return nil, err
	}
	if err := add("exempt", exemptStart, st.Params.Len(), 0); err != nil {
		optim.FreeGroups(groups)
		return nil, err
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("train: --freeze %d leaves nothing to train", r.cfg.Freeze)
	}
	return groups, nil
}
