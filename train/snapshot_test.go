package train_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/effv2vk/effv2vk/train"
)

// TestShortRunLeavesASnapshot: a run shorter than the snapshot interval
// still leaves snapshot.json with samples, feature maps and kernel times
// (with --profile) of its last step, for the window's panels.
func TestShortRunLeavesASnapshot(t *testing.T) {
	c := quick(t)
	c.Epochs, c.Stages, c.TrainLimit, c.TestLimit = 1, 1, 48, 50
	c.SnapshotEvery, c.Profile = 50, true
	res := run(t, context.Background(), c)
	b, err := os.ReadFile(filepath.Join(c.OutDir, "snapshot.json"))
	if err != nil {
		t.Fatalf("no snapshot after a %d-step run: %v", res.Steps, err)
	}
	var s train.Snapshot
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if s.Step != res.Steps || len(s.Samples) == 0 || len(s.FeatureMaps) == 0 || len(s.KernelTimes) == 0 || len(s.Classes) != 10 {
		t.Fatalf("snapshot of step %d (run: %d steps): %d samples, %d feature maps, %d kernel times, %d classes",
			s.Step, res.Steps, len(s.Samples), len(s.FeatureMaps), len(s.KernelTimes), len(s.Classes))
	}
}
