package train

import "testing"

func TestDefaultCheckpointEvery(t *testing.T) {
	for _, c := range []struct {
		stepSeconds float64
		perEpoch    int
		want        int
	}{
		{0.5, 100000, 1200}, // 10 minutes of half-second steps
		{1.5, 5000, 400},
		{0.5, 1000, 0},     // the epoch (8 min) ends first
		{0.5, 1200, 0},     // exactly 10 minutes: the epoch's own checkpoint
		{900, 50, 1},       // steps longer than 10 minutes: every step
		{0, 1000, 0},       // not measured
		{-1, 1000, 0},      // nonsense
		{1e-9, 1 << 30, 0}, // too fast to matter
	} {
		if got := defaultCheckpointEvery(c.stepSeconds, c.perEpoch); got != c.want {
			t.Errorf("step %gs, %d steps an epoch: every %d, want %d", c.stepSeconds, c.perEpoch, got, c.want)
		}
	}
}
