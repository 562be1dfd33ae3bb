package engine

import (
	"math"
	"testing"
)

// TestSignTestTail checks the coin-toss tail against counts worked by hand.
func TestSignTestTail(t *testing.T) {
	for _, c := range []struct {
		wins, n int
		want    float64
	}{
		{0, 4, 1},
		{4, 4, 1.0 / 16},
		{3, 4, 5.0 / 16},
		{10, 10, 1.0 / 1024},
		{9, 10, 11.0 / 1024},
		{12, 16, (1820 + 560 + 120 + 16 + 1) / 65536.0},
	} {
		if got := signTestTail(c.wins, c.n); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("signTestTail(%d, %d) = %g, want %g", c.wins, c.n, got, c.want)
		}
	}
}

// TestJudgeRematch: a challenger needs the margin, two thirds of the
// rounds and a sign test that rules out luck; a lead short of that keeps
// the rematch going, anything else keeps the default.
func TestJudgeRematch(t *testing.T) {
	for _, c := range []struct {
		ratio   float64
		wins, n int
		want    rematchVerdict
	}{
		{0.95, 4, 4, rematchUndecided},   // the old rule's switch: 1 in 16 by luck
		{0.95, 12, 16, rematchUndecided}, // two thirds of 16: 4% by luck
		{0.95, 10, 10, rematchSwitch},
		{0.95, 15, 16, rematchSwitch},
		{0.98, 16, 16, rematchKeep}, // within the margin
		{0.90, 9, 16, rematchKeep},  // fewer than two thirds
		{0.90, 0, 0, rematchKeep},
	} {
		if got := judgeRematch(c.ratio, c.wins, c.n); got != c.want {
			t.Errorf("judgeRematch(%g, %d, %d) = %d, want %d", c.ratio, c.wins, c.n, got, c.want)
		}
	}
}
