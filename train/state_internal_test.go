package train

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/safetensors"
)

// SameCheckpointState lets the external tests compare whole checkpoints.
func SameCheckpointState(t testing.TB, got, want string) { sameCheckpointState(t, got, want, false) }

// sameCheckpointState fails t unless the checkpoints at got and want hold
// the same tensors bit for bit (parameters, BN running statistics and
// batch counts, optimizer state, EMA state) and the same position (epoch,
// batch, step, best top-1). The checkpoints must hold optimizer, EMA and BN
// state, so that none of it escapes the comparison. With entriesOnly, the
// flat optimizer and EMA state is compared on its entries only, not on the
// alignment gaps between them, which no update reads (realign zeroes them).
func sameCheckpointState(t testing.TB, got, want string, entriesOnly bool) {
	t.Helper()
	fg, err := safetensors.Read(got)
	if err != nil {
		t.Fatal(err)
	}
	fw, err := safetensors.Read(want)
	if err != nil {
		t.Fatal(err)
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
		if _, err := regionOf(name); err == nil && entriesOnly {
			tg, tw = entriesOf(t, fg, mg, name), entriesOf(t, fw, mw, name)
		}
		if tg.DType != tw.DType || !slices.Equal(tg.Shape, tw.Shape) || !bytes.Equal(tg.Data, tw.Data) {
			t.Errorf("%s differs: %s holds %v %v (%d bytes), %s holds %v %v (%d bytes)%s",
				name, got, tg.DType, tg.Shape, len(tg.Data), want, tw.DType, tw.Shape, len(tw.Data), firstDifference(tg.Data, tw.Data))
		}
	}
	if !optimizer || !ema || !running {
		t.Fatalf("%s lacks optimizer (%v), EMA (%v) or BN running (%v) state: the comparison would miss it", want, optimizer, ema, running)
	}
}

// entriesOf is a flat state tensor of a checkpoint with its alignment gaps
// zeroed (realigned to its own layout).
func entriesOf(t testing.TB, f *safetensors.File, meta checkpointMeta, name string) safetensors.Tensor {
	t.Helper()
	mc, err := arch.Lookup(meta.Model, len(meta.Classes))
	if err != nil {
		t.Fatal(err)
	}
	v, err := f.Float32s(name)
	if err != nil {
		t.Fatal(err)
	}
	layout := net.NewLayout(mc, meta.Align)
	if v, err = realign(mc, name, v, layout, layout); err != nil {
		t.Fatal(err)
	}
	out, err := safetensors.Float32Tensor([]int{len(v)}, v)
	if err != nil {
		t.Fatal(err)
	}
	return out
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
	sameCheckpointState(t, filepath.Join(r2.cfg.OutDir, name), filepath.Join(c.OutDir, name), false)
	sameCheckpointState(t, filepath.Join(r2.cfg.OutDir, "best.safetensors"), filepath.Join(c.OutDir, "best.safetensors"), false)
}

// errCrash is what the crash hook returns to stop a write as a crash would.
var errCrash = errors.New("simulated crash")

// TestCrashInsideCheckpointWrite stops the step-4 checkpoint write of a
// 4-step run (as a crash would: the temporary file stays, nothing is
// renamed) once after part of the file is written and once just before the
// rename: the step-2 checkpoint and best.safetensors must be left as they
// were, no step-4 checkpoint may appear, and resuming must finish the run
// with the uninterrupted run's whole state, bit for bit.
func TestCrashInsideCheckpointWrite(t *testing.T) {
	whole := smallRun(t)
	mustRun(t, whole)
	for _, point := range []struct {
		name string
		at   writePoint
	}{{"after part of the file", afterPartialWrite}, {"before the rename", beforeRename}} {
		t.Run(point.name, func(t *testing.T) {
			c := smallRun(t)
			last := filepath.Join(c.OutDir, checkpointName(2))
			best := filepath.Join(c.OutDir, "best.safetensors")
			var lastBytes, bestBytes []byte
			c.AfterStep = func(step int, _ float64) {
				if step == 3 { // the step-2 checkpoint is written
					lastBytes, _ = os.ReadFile(last)
					bestBytes, _ = os.ReadFile(best)
				}
			}
			crashes := 0
			crashHook = func(path string, at writePoint, written int64) error {
				if filepath.Base(path) == checkpointName(4) && at == point.at && written > 0 {
					crashes++
					return errCrash
				}
				return nil
			}
			res, err := Run(context.Background(), c, nil)
			crashHook = nil
			checkValidation(t, res)
			if !errors.Is(err, errCrash) || crashes != 1 {
				t.Fatalf("the run ended with %v after %d crashes, want the simulated crash once", err, crashes)
			}
			if len(lastBytes) == 0 || len(bestBytes) == 0 {
				t.Fatal("no step-2 checkpoint or best.safetensors before the crash")
			}
			if now, _ := os.ReadFile(last); !bytes.Equal(now, lastBytes) {
				t.Errorf("the crash changed %s", last)
			}
			if now, _ := os.ReadFile(best); !bytes.Equal(now, bestBytes) {
				t.Errorf("the crash changed best.safetensors")
			}
			if _, err := os.Stat(filepath.Join(c.OutDir, checkpointName(4))); !os.IsNotExist(err) {
				t.Errorf("a step-4 checkpoint exists after the crash (%v)", err)
			}
			tmps, _ := filepath.Glob(filepath.Join(c.OutDir, "."+checkpointName(4)+".tmp-*"))
			if len(tmps) != 1 {
				t.Fatalf("temporary files left by the crash: %v, want one", tmps)
			}
			st, err := os.Stat(tmps[0])
			if err != nil {
				t.Fatal(err)
			}
			full := int64(len(lastBytes)) // the step-4 checkpoint has the same layout
			if point.at == afterPartialWrite && !(st.Size() > 0 && st.Size() < full) {
				t.Errorf("the partial temporary file has %d bytes, want between 0 and %d", st.Size(), full)
			}
			if point.at == beforeRename && st.Size() != full {
				t.Errorf("the complete temporary file has %d bytes, want %d", st.Size(), full)
			}

			c.AfterStep, c.Resume = nil, true
			rest := mustRun(t, c)
			if rest.Steps != 2 {
				t.Errorf("the resumed run trained %d steps, want 2 (from the step-2 checkpoint)", rest.Steps)
			}
			if tmps, _ := filepath.Glob(filepath.Join(c.OutDir, ".*.tmp-*")); len(tmps) != 0 {
				t.Errorf("temporary files left after the resumed run: %v", tmps)
			}
			sameCheckpointState(t, filepath.Join(c.OutDir, checkpointName(4)), filepath.Join(whole.OutDir, checkpointName(4)), false)
		})
	}
}

// TestNaNLossKeepsLastGoodCheckpoint poisons the parameters with NaN after
// the first step past the step-2 checkpoint: the next step's loss is NaN,
// and the run must stop with an error saying so, write no checkpoint of the
// poisoned state, leave the step-2 checkpoint and best.safetensors as they
// were, and resume from them to the end.
func TestNaNLossKeepsLastGoodCheckpoint(t *testing.T) {
	c := smallRun(t)
	r := &run{cfg: c}
	if err := r.setup(); err != nil {
		r.close()
		t.Fatal(err)
	}
	last := filepath.Join(c.OutDir, checkpointName(2))
	best := filepath.Join(c.OutDir, "best.safetensors")
	var lastBytes, bestBytes []byte
	var poison error
	r.cfg.AfterStep = func(step int, _ float64) {
		if step == 3 {
			lastBytes, _ = os.ReadFile(last)
			bestBytes, _ = os.ReadFile(best)
			nan := make([]float32, r.model.Store.Params.Len())
			for i := range nan {
				nan[i] = float32(math.NaN())
			}
			poison = r.model.Store.Params.Upload(nan)
		}
	}
	res, err := r.train(context.Background())
	checkValidation(t, &Result{Validation: r.close()})
	if poison != nil {
		t.Fatal(poison)
	}
	if err == nil || !strings.Contains(err.Error(), "loss became NaN at step 3") || !strings.Contains(err.Error(), "last good checkpoint") {
		t.Fatalf("run with NaN parameters ended with %v, want the NaN loss at step 3 reported and the last good checkpoint kept", err)
	}
	if res == nil || res.Steps != 3 {
		t.Fatalf("result %+v: want 3 steps trained", res)
	}
	ckpts, _ := filepath.Glob(filepath.Join(c.OutDir, "ckpt-*.safetensors"))
	if len(ckpts) != 1 || ckpts[0] != last {
		t.Fatalf("checkpoints after the NaN loss: %v, want only %s", ckpts, last)
	}
	if now, _ := os.ReadFile(last); len(lastBytes) == 0 || !bytes.Equal(now, lastBytes) {
		t.Errorf("the NaN loss changed %s", last)
	}
	if now, _ := os.ReadFile(best); len(bestBytes) == 0 || !bytes.Equal(now, bestBytes) {
		t.Errorf("the NaN loss changed best.safetensors")
	}
	c.Resume = true
	rest := mustRun(t, c)
	if rest.Steps != 2 {
		t.Fatalf("resumed run trained %d steps, want 2 (steps 3 and 4)", rest.Steps)
	}
	for i, l := range rest.Losses {
		if math.IsNaN(l) || math.IsInf(l, 0) {
			t.Fatalf("resumed step %d: loss %v", i+3, l)
		}
	}
}
