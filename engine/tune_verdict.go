package engine

import "math"

// tuneRematchAlpha is the chance the rematch's sign test allows of a
// variant no faster than the default winning as many paired rounds as it
// did: a challenger replaces the default only when winning that many
// rounds by luck is less likely than this.
const tuneRematchAlpha = 0.001

// rematchVerdict is what the rematch's paired rounds say so far.
type rematchVerdict int

const (
	// rematchUndecided: the challenger leads, but not yet by enough
	// rounds to rule out luck; the rematch goes on.
	rematchUndecided rematchVerdict = iota
	// rematchKeep: the challenger did not win by the margin in most
	// rounds; the default stays.
	rematchKeep
	// rematchSwitch: the challenger won by the margin and in so many
	// rounds that luck is ruled out.
	rematchSwitch
)

// judgeRematch reads the paired rounds of a rematch: the median of the
// challenger's round time over the default's (ratio), the rounds the
// challenger took less time in (wins) and the rounds compared (n).
func judgeRematch(ratio float64, wins, n int) rematchVerdict {
	if n == 0 || ratio >= 1-tuneMargin || float64(wins) < tuneRematchWins*float64(n) {
		return rematchKeep
	}
	if signTestTail(wins, n) < tuneRematchAlpha {
		return rematchSwitch
	}
	return rematchUndecided
}

// signTestTail is the chance of at least wins heads in n fair coin tosses:
// how likely a variant as fast as the default is to win that many of n
// paired rounds.
func signTestTail(wins, n int) float64 {
	p := 0.0
	for k := max(wins, 0); k <= n; k++ {
		p += math.Exp(logChoose(n, k) - float64(n)*math.Ln2)
	}
	return min(p, 1)
}

// logChoose is log(n choose k).
func logChoose(n, k int) float64 {
	a, _ := math.Lgamma(float64(n + 1))
	b, _ := math.Lgamma(float64(k + 1))
	c, _ := math.Lgamma(float64(n - k + 1))
	return a - b - c
}
