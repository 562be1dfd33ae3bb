package train

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

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
