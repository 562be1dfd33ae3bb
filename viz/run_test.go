package viz

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadRunFixture(t *testing.T) {
	r := writeFixtureRun(t, t.TempDir())
	if len(r.Train) != fixtureSteps {
		t.Fatalf("train points: got %d want %d", len(r.Train), fixtureSteps)
	}
	if r.Skipped != 1 {
		t.Errorf("the partly written last line should be skipped once, skipped %d", r.Skipped)
	}
	if len(r.Eval) != fixtureSteps/20 || math.IsNaN(r.Eval[0].EMATop1) {
		t.Errorf("eval points: got %d (first EMA %v), want %d with EMA", len(r.Eval), r.Eval[0].EMATop1, fixtureSteps/20)
	}
	if got := r.Train[7].Loss; got != fixtureLoss(7) {
		t.Errorf("loss at step 7: got %v want %v", got, fixtureLoss(7))
	}
	st := r.Stages()
	if len(st) != len(fixtureStages) {
		t.Fatalf("stages: got %v want %v", st, fixtureStages)
	}
	for i := range st {
		if st[i] != fixtureStages[i] {
			t.Errorf("stage %d: got %+v want %+v", i, st[i], fixtureStages[i])
		}
	}
	s := r.Snapshot
	if s == nil || len(s.Samples) != 16 || s.Samples[0].H != 28 || len(s.Samples[0].Pixels) != 784 {
		t.Fatalf("snapshot samples not decoded: %+v", s)
	}
	if len(s.FeatureMaps) != 2 || len(s.FeatureMaps[1].Data) != 24*7*7 || s.ClassName(9) != "Ankle boot" || s.ClassName(42) != "42" {
		t.Errorf("snapshot feature maps or classes wrong")
	}
}

func TestReadRunEvalWithoutEMA(t *testing.T) {
	dir := t.TempDir()
	line := `{"kind":"eval","time":"2026-11-01T12:00:00Z","step":5,"epoch":0.1,"stage":0,"image_size":64,"top1":0.5,"top5":0.9}` + "\n"
	if err := os.WriteFile(filepath.Join(dir, MetricsFile), []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	r, err := ReadRun(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Eval) != 1 || !math.IsNaN(r.Eval[0].EMATop1) || r.Eval[0].Top1 != 0.5 {
		t.Fatalf("eval without ema: %+v", r.Eval)
	}
	_, acc, _ := ChartSeries(r)
	for _, s := range acc {
		if s.Name == "EMA top-1" {
			t.Errorf("an EMA curve is drawn though no eval line has ema_top1")
		}
	}
}

func TestReadRunMissingAndEmpty(t *testing.T) {
	_, err := ReadRun(filepath.Join(t.TempDir(), "nope"))
	if !errors.Is(err, ErrNoRun) || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing dir: got %v", err)
	}
	r, err := ReadRun(t.TempDir())
	if err != nil || !r.Empty() {
		t.Errorf("empty dir: got %+v, %v; want an empty run", r, err)
	}
	f := filepath.Join(t.TempDir(), "file")
	os.WriteFile(f, nil, 0o644)
	if _, err := ReadRun(f); !errors.Is(err, ErrNoRun) {
		t.Errorf("a file as run dir: got %v", err)
	}
}

func TestParseSnapshotRejectsBadShapes(t *testing.T) {
	for _, c := range []struct{ name, js, want string }{
		{"not json", `{"step":`, "not a snapshot"},
		{"pixels short", `{"samples":[{"h":2,"w":2,"c":1,"pixels":"AAA=","label":0,"pred":0}]}`, "sample 0: pixels are 2 bytes"},
		{"bad channels", `{"samples":[{"h":1,"w":1,"c":2,"pixels":"AAA=","label":0,"pred":0}]}`, "sample 0:"},
		{"fmap too short", `{"feature_maps":[{"layer":"x","c":1,"h":1,"w":2,"data":"AAAAAA=="}]}`, "feature map 0 (x): data is 4 bytes"},
	} {
		if _, err := ParseSnapshot([]byte(c.js)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v, want an error containing %q", c.name, err, c.want)
		}
	}
}
