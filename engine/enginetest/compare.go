package enginetest

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"
)

// Rand returns a generator seeded from $EFFV2VK_TEST_SEED or the clock,
// logging the seed so that a failure can be reproduced.
func Rand(t testing.TB) *rand.Rand {
	t.Helper()
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("EFFV2VK_TEST_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("EFFV2VK_TEST_SEED=%q: %v", s, err)
		}
		seed = v
	}
	t.Logf("seed %d (rerun with EFFV2VK_TEST_SEED=%d)", seed, seed)
	return rand.New(rand.NewPCG(seed, 0x5eed))
}

// CloseTo reports an error when got and want differ by more than tol
// relative to the largest magnitude of want (1 when want is all zero), or
// when got holds a NaN or an infinity (an unwritten, NaN-poisoned element).
func CloseTo(got, want []float64, tol float64) error { return CloseToAtLeast(got, want, tol, 0) }

// CloseToAtLeast is CloseTo with errors measured relative to at least
// scale. Pass the magnitude of the operands a result was computed from: a
// sum that cancels to nearly zero still carries their float32 rounding,
// which is no error of the kernel.
func CloseToAtLeast(got, want []float64, tol, scale float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	for _, w := range want {
		scale = math.Max(scale, math.Abs(w))
	}
	if scale == 0 {
		scale = 1
	}
	worst, at := 0.0, -1
	for i := range got {
		if math.IsNaN(got[i]) || math.IsInf(got[i], 0) {
			return fmt.Errorf("element %d is %v (unwritten or overflow), want %v", i, got[i], want[i])
		}
		if e := math.Abs(got[i]-want[i]) / scale; e > worst {
			worst, at = e, i
		}
	}
	if worst > tol {
		return fmt.Errorf("max error %.3g relative to scale %.3g (max |want| or operands) at element %d: got %v want %v (tolerance %g)", worst, scale, at, got[at], want[at], tol)
	}
	return nil
}
