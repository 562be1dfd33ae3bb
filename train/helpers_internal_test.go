package train

import (
	"bytes"
	"context"
	"fmt"
	"os"
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
