package train

import (
	"fmt"

	"github.com/effv2vk/effv2vk/net"
)

// readInit reads the --init weights for the run's model (nothing without
// --init). The file is checked whole before anything reaches the device.
func (r *run) readInit() error {
	if r.cfg.Init == "" || r.init != nil {
		return nil
	}
	w, err := net.ReadInitWeights(r.cfg.Init, r.mc, r.cfg.Seed)
	if err != nil {
		return err
	}
	r.init = w
	return nil
}

// loadInit puts the --init weights on the device and says what it did.
func (r *run) loadInit() error {
	if err := r.readInit(); err != nil || r.init == nil {
		return err
	}
	if err := r.model.Store.Load(r.init.Values); err != nil {
		return fmt.Errorf("train: --init %s: %w", r.cfg.Init, err)
	}
	if r.out != nil {
		fmt.Fprintf(r.out, "initialized %s from %s (%d tensors, BN running statistics included)\n", r.mc.Name, r.cfg.Init, len(r.init.Values)-len(r.init.Reinitialized))
		if len(r.init.Reinitialized) > 0 {
			fmt.Fprintf(r.out, "the file's classifier has %d classes, this dataset %d: the classifier (%v) is freshly initialized\n",
				r.init.FileClasses, r.mc.Classes, r.init.Reinitialized)
		}
	}
	r.init = nil // the host copy is no longer needed
	return nil
}
