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

// The comparison helpers below are NaN-safe by construction: each one
// fails unless !(err <= tol) is false, so a NaN or an infinity in got, in
// want or in the tolerance fails (a NaN makes every comparison false; an
// unwritten, NaN-poisoned element must never pass). Tests compare floats
// with these helpers only, never with a bare "err > tol".

// exceeds is the one test every helper makes: err is not within tol (NaN
// in either exceeds).
func exceeds(err, tol float64) bool { return !(err <= tol) }

// finite reports whether v is neither NaN nor an infinity.
func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// checkTolerance refuses a tolerance that is NaN, infinite or negative (a
// comparison that could never fail).
func checkTolerance(tol float64) error {
	if !finite(tol) || tol < 0 {
		return fmt.Errorf("tolerance %v: want a finite value >= 0", tol)
	}
	return nil
}

// Within reports an error unless got and want are finite and
// |got - want| <= tol.
func Within(got, want, tol float64) error {
	if err := checkTolerance(tol); err != nil {
		return err
	}
	if !finite(got) || !finite(want) {
		return fmt.Errorf("got %v, want %v: not a finite number", got, want)
	}
	if e := math.Abs(got - want); exceeds(e, tol) {
		return fmt.Errorf("got %v, want %v: error %.3g exceeds the tolerance %g", got, want, e, tol)
	}
	return nil
}

// WithinRel reports an error unless got and want are finite and
// |got - want| <= tol * max(floor, |want|): a relative tolerance that
// turns absolute (tol*floor) near zero.
func WithinRel(got, want, tol, floor float64) error {
	if err := checkTolerance(tol); err != nil {
		return err
	}
	if !finite(floor) || floor < 0 {
		return fmt.Errorf("floor %v: want a finite value >= 0", floor)
	}
	if !finite(got) || !finite(want) {
		return fmt.Errorf("got %v, want %v: not a finite number", got, want)
	}
	bound := tol * math.Max(floor, math.Abs(want))
	if e := math.Abs(got - want); exceeds(e, bound) {
		return fmt.Errorf("got %v, want %v: error %.3g exceeds %g x max(%g, |want|) = %.3g", got, want, e, tol, floor, bound)
	}
	return nil
}

// CloseTo reports an error when got and want differ by more than tol
// relative to the largest magnitude of want (1 when want is all zero), or
// when got or want holds a NaN or an infinity (an unwritten, NaN-poisoned
// element, or a broken reference).
func CloseTo(got, want []float64, tol float64) error { return CloseToAtLeast(got, want, tol, 0) }

// CloseToAtLeast is CloseTo with errors measured relative to at least
// scale. Pass the magnitude of the operands a result was computed from: a
// sum that cancels to nearly zero still carries their float32 rounding,
// which is no error of the kernel.
func CloseToAtLeast(got, want []float64, tol, scale float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	if err := checkTolerance(tol); err != nil {
		return err
	}
	if !finite(scale) || scale < 0 {
		return fmt.Errorf("scale %v: want a finite value >= 0", scale)
	}
	for i, w := range want {
		if !finite(w) {
			return fmt.Errorf("want element %d is %v: the reference is not finite", i, w)
		}
		scale = math.Max(scale, math.Abs(w))
	}
	if scale == 0 {
		scale = 1
	}
	worst, at := 0.0, -1
	for i := range got {
		if !finite(got[i]) {
			return fmt.Errorf("element %d is %v (unwritten or overflow), want %v", i, got[i], want[i])
		}
		if e := math.Abs(got[i]-want[i]) / scale; exceeds(e, worst) {
			worst, at = e, i
		}
	}
	if exceeds(worst, tol) {
		return fmt.Errorf("max error %.3g relative to scale %.3g (max |want| or operands) at element %d: got %v want %v (tolerance %g)", worst, scale, at, got[at], want[at], tol)
	}
	return nil
}

// Between reports an error unless lo <= v <= hi (NaN never is).
func Between(v, lo, hi float64) error {
	if !(lo <= v && v <= hi) {
		return fmt.Errorf("%v is outside [%v, %v]", v, lo, hi)
	}
	return nil
}

// EachWithinRel reports an error at the first element where WithinRel(got[i],
// want[i], tol, floor) fails: an element-wise relative tolerance (each
// element against its own magnitude, not the largest of want).
func EachWithinRel(got, want []float64, tol, floor float64) error {
	if len(got) != len(want) {
		return fmt.Errorf("length %d, want %d", len(got), len(want))
	}
	for i := range got {
		if err := WithinRel(got[i], want[i], tol, floor); err != nil {
			return fmt.Errorf("element %d: %w", i, err)
		}
	}
	return nil
}
