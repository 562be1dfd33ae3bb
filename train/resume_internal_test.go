package train

import (
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckpointRoundTripsWholeState fills every part of a run's state
// with random values (parameters, BN running statistics and batch count,
// optimizer state, EMA state) and a position, writes a checkpoint, resumes
// it in a second run and writes that run's state again: the two
// checkpoints must hold the same state bit for bit. Random values, not a
// trained state, so that a part that resume forgot to restore cannot match
// by chance.
func TestCheckpointRoundTripsWholeState(t *testing.T) {
	c := smallRun(t)
	r := &run{cfg: c}
	if err := r.setup(); err != nil {
		r.close()
		t.Fatal(err)
	}
	defer func() { checkValidation(t, &Result{Validation: r.close()}) }()
	rng := rand.New(rand.NewPCG(7, 11))
	values, err := r.model.Store.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	for name, v := range values {
		for i := range v {
			v[i] = float32(rng.NormFloat64())
		}
		if strings.HasSuffix(name, "num_batches_tracked") {
			v[0] = float32(100 + rng.IntN(1000))
		}
	}
	if err := r.model.Store.Load(values); err != nil {
		t.Fatal(err)
	}
	state := r.stateTensors()
	if len(state) < 3 {
		t.Fatalf("%d state tensors: want the optimizer's and the EMA's", len(state))
	}
	for _, s := range state {
		v := make([]float32, s.Tensor.Len())
		for i := range v {
			v[i] = float32(rng.Float64())
		}
		if err := s.Tensor.Upload(v); err != nil {
			t.Fatal(err)
		}
	}
	r.pos = position{Epoch: 1, Batch: 1, Step: 3, BestTop1: 0.4375}
	if err := r.checkpoint(true); err != nil {
		t.Fatal(err)
	}

	c.Resume = true
	r2 := &run{cfg: c}
	if err := r2.setup(); err != nil {
		r2.close()
		t.Fatal(err)
	}
	defer func() { checkValidation(t, &Result{Validation: r2.close()}) }()
	fresh, err := r2.resume()
	if err != nil || fresh {
		t.Fatalf("resume: fresh %v, %v", fresh, err)
	}
	r2.cfg.OutDir = t.TempDir()
	if err := r2.checkpoint(true); err != nil {
		t.Fatal(err)
	}
	name := checkpointName(3)
	sameCheckpointState(t, filepath.Join(r2.cfg.OutDir, name), filepath.Join(c.OutDir, name), false)
	sameCheckpointState(t, filepath.Join(r2.cfg.OutDir, "best.safetensors"), filepath.Join(c.OutDir, "best.safetensors"), false)
}
