package train_test

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"
)

// TestMidEpochCheckpointResumesBitwise trains with --checkpoint-every 5,
// then plays a `kill -9` after step 10 (mid-way through the first 16-step
// epoch): every later checkpoint is deleted, and the run resumed from the
// step-10 one must repeat the uninterrupted run's losses bitwise.
func TestMidEpochCheckpointResumesBitwise(t *testing.T) {
	c := quick(t)
	c.CheckpointEvery, c.KeepLast = 5, 100
	whole := run(t, context.Background(), c)
	for _, step := range []int{5, 10, 15, 16, 20, 25, 30, 32} {
		if _, err := os.Stat(filepath.Join(c.OutDir, ckptName(step))); err != nil {
			t.Errorf("no checkpoint after step %d: %v", step, err)
		}
	}
	all, _ := filepath.Glob(filepath.Join(c.OutDir, "ckpt-*.safetensors"))
	if len(all) != 8 {
		t.Errorf("checkpoints %v, want 8 (every 5 steps and each epoch's end)", all)
	}
	for _, f := range all {
		if f > filepath.Join(c.OutDir, ckptName(10)) {
			if err := os.Remove(f); err != nil {
				t.Fatal(err)
			}
		}
	}
	c.Resume = true
	rest := run(t, context.Background(), c)
	want := whole.Losses[10:]
	if len(rest.Losses) != len(want) {
		t.Fatalf("resumed run did %d steps, want %d", len(rest.Losses), len(want))
	}
	for i := range want {
		if math.Float64bits(rest.Losses[i]) != math.Float64bits(want[i]) {
			t.Fatalf("step %d: loss %v after resume, %v uninterrupted", 11+i, rest.Losses[i], want[i])
		}
	}
	if rest.FinalTop1 != whole.FinalTop1 {
		t.Errorf("final accuracy %v after resume, %v uninterrupted", rest.FinalTop1, whole.FinalTop1)
	}
}

func ckptName(step int) string { return fmt.Sprintf("ckpt-%09d.safetensors", step) }
