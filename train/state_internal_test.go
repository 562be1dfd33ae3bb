package train

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/safetensors"
)

// SameCheckpointState lets the external tests compare whole checkpoints.
var SameCheckpointState = sameCheckpointState

// sameCheckpointState fails t unless the checkpoints at got and want hold
// the same tensors bit for bit (parameters, BN running statistics and
// batch counts, optimizer state, EMA state) and the same position (epoch,
// batch, step, best top-1). The checkpoints must hold optimizer, EMA and BN
// state, so that none of it escapes the comparison.
func sameCheckpointState(t testing.TB, got, want string) {
	t.Helper()
	fg, err := safetensors.Read(got)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := safetensors.Read(want)
	if err != nil {
		t.Fatal(err)
	}
	ng, nw := fg.Names(), fw.Names()
	slices.Sort(ng)
	slices.Sort(nw)
	if !slices.Equal(ng, nw) {
		t.Fatalf("%s holds tensors %v, %s holds %v", got, ng, want, nw)
	}
	var optimizer, ema, running bool
	for _, name := range nw {
		optimizer = optimizer || strings.HasPrefix(name, "optim/")
		ema = ema || strings.HasPrefix(name, "ema/")
		running = running || strings.HasSuffix(name, ".running_var")
		tg, _ := fg.Tensor(name)
		tw, _ := fw.Tensor(name)
		if tg.DType != tw.DType || !slices.Equal(tg.Shape, tw.Shape) || !bytes.Equal(tg.Data, tw.Data) {
			t.Errorf("%s differs: %s holds %v %v (%d bytes), %s holds %v %v (%d bytes)%s",
				name, got, tg.DType, tg.Shape, len(tg.Data), want, tw.DType, tw.Shape, len(tw.Data), firstDifference(tg.Data, tw.Data))
		}
	}
	if !optimizer || !ema || !running {
		t.Fatalf("%s lacks optimizer (%v), EMA (%v) or BN running (%v) state: the comparison would miss it", want, optimizer, ema, running)
	}
	mg, err := readCheckpointMeta(fg, got)
	if err != nil {
		t.Fatal(err)
	}
	mw, err := readCheckpointMeta(fw, want)
	if err != nil {
		t.Fatal(err)
	}
	if mg.Position != mw.Position {
		t.Errorf("position %+v in %s, %+v in %s", mg.Position, got, mw.Position, want)
	}
}

// firstDifference describes the first byte at which a and b differ.
func firstDifference(a, b []byte) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return fmt.Sprintf(", first difference at byte %d", i)
		}
	}
	return ""
}

// smallRun is a run of 2 epochs of 2 steps of pico (a checkpoint after
// step 2 and step 4) with the validation layer on.
func smallRun(t *testing.T) Config {
	t.Helper()
	if os.Getenv("EFFV2VK_VALIDATE") == "" {
		t.Setenv("EFFV2VK_VALIDATE", "1")
	}
	c := Defaults()
	c.DataDir = "../testdata/fashion-mnist-subset"
	c.TrainLimit, c.TestLimit = 32, 20
	c.Epochs, c.Stages, c.BatchSize, c.EvalBatch, c.WarmupEpochs, c.Workers = 2, 1, 16, 20, 0.5, 2
	c.OutDir = t.TempDir()
	return c
}

// checkValidation fails t for each validation message of a run.
func checkValidation(t *testing.T, res *Result) {
	t.Helper()
	if res == nil {
		return
	}
	for _, m := range res.Validation {
		t.Errorf("validation: %s", m)
	}
}

// mustRun runs c to the end, failing t on an error or a validation
// message.
func mustRun(t *testing.T, c Config) *Result {
	t.Helper()
	res, err := Run(context.Background(), c, nil)
	if err != nil {
		t.Fatal(err)
	}
	checkValidation(t, res)
	return res
}

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
	sameCheckpointState(t, filepath.Join(r2.cfg.OutDir, name), filepath.Join(c.OutDir, name))
	sameCheckpointState(t, filepath.Join(r2.cfg.OutDir, "best.safetensors"), filepath.Join(c.OutDir, "best.safetensors"))
}
