package enginetest

import (
	"math"
	"strings"
	"testing"
)

var (
	nan    = math.NaN()
	posInf = math.Inf(1)
	negInf = math.Inf(-1)
)

// check fails t unless err is nil (pass) or an error containing want.
func check(t *testing.T, what string, err error, pass bool, want string) {
	t.Helper()
	switch {
	case pass && err != nil:
		t.Errorf("%s: want a pass, got %v", what, err)
	case !pass && err == nil:
		t.Errorf("%s: passed, want an error", what)
	case !pass && !strings.Contains(err.Error(), want):
		t.Errorf("%s: got %v, want an error containing %q", what, err, want)
	}
}

// TestWithinNegativeControls feeds Within NaN, infinities, a value one step
// past the tolerance and one exactly at it.
func TestWithinNegativeControls(t *testing.T) {
	check(t, "equal", Within(1, 1, 0), true, "")
	check(t, "at the tolerance", Within(1.5, 1, 0.5), true, "")
	check(t, "past the tolerance", Within(math.Nextafter(1.5, 2), 1, 0.5), false, "exceeds the tolerance")
	check(t, "NaN got", Within(nan, 1, 0.5), false, "not a finite number")
	check(t, "NaN want", Within(1, nan, 0.5), false, "not a finite number")
	check(t, "+Inf got", Within(posInf, 1, 0.5), false, "not a finite number")
	check(t, "-Inf want", Within(1, negInf, 0.5), false, "not a finite number")
	check(t, "Inf equal to Inf", Within(posInf, posInf, 0.5), false, "not a finite number")
	check(t, "NaN tolerance", Within(1, 1, nan), false, "tolerance NaN")
	check(t, "infinite tolerance", Within(1, 2, posInf), false, "tolerance +Inf")
	check(t, "negative tolerance", Within(1, 1, -1), false, "tolerance -1")
}

// TestWithinRelNegativeControls does the same for WithinRel, on both sides
// of its floor.
func TestWithinRelNegativeControls(t *testing.T) {
	check(t, "relative, at the tolerance", WithinRel(110, 100, 0.1, 1), true, "")
	check(t, "relative, past the tolerance", WithinRel(math.Nextafter(110, 200), 100, 0.1, 1), false, "exceeds")
	check(t, "floored, at the tolerance", WithinRel(0.25, 0, 0.5, 0.5), true, "")
	check(t, "floored, past the tolerance", WithinRel(math.Nextafter(0.25, 1), 0, 0.5, 0.5), false, "exceeds")
	check(t, "NaN got", WithinRel(nan, 100, 0.1, 1), false, "not a finite number")
	check(t, "NaN want", WithinRel(100, nan, 0.1, 1), false, "not a finite number")
	check(t, "+Inf got", WithinRel(posInf, 100, 0.1, 1), false, "not a finite number")
	check(t, "NaN tolerance", WithinRel(100, 100, nan, 1), false, "tolerance NaN")
	check(t, "NaN floor", WithinRel(100, 100, 0.1, nan), false, "floor NaN")
	check(t, "infinite floor", WithinRel(100, 1e300, 0.1, posInf), false, "floor +Inf")
}

// TestCloseToNegativeControls feeds CloseTo and CloseToAtLeast NaN and
// infinities in got and in want, and errors just at and just past the
// tolerance (relative to the largest |want|, or to scale).
func TestCloseToNegativeControls(t *testing.T) {
	want := []float64{4, -2, 0.5}
	at := []float64{4.5, -2, 0.5} // error 0.5 = 0.125 x max|want| (exact in binary)
	past := []float64{math.Nextafter(4.5, 5), -2, 0.5}
	check(t, "at the tolerance", CloseTo(at, want, 0.125), true, "")
	check(t, "past the tolerance", CloseTo(past, want, 0.125), false, "max error")
	check(t, "NaN got", CloseTo([]float64{4, nan, 0.5}, want, 0.1), false, "element 1 is NaN")
	check(t, "+Inf got", CloseTo([]float64{4, -2, posInf}, want, 0.1), false, "element 2 is +Inf")
	check(t, "-Inf got", CloseTo([]float64{negInf, -2, 0.5}, want, 0.1), false, "element 0 is -Inf")
	check(t, "NaN want", CloseTo(want, []float64{4, nan, 0.5}, 0.1), false, "want element 1 is NaN")
	check(t, "+Inf want", CloseTo(want, []float64{4, -2, posInf}, 0.1), false, "want element 2 is +Inf")
	check(t, "NaN tolerance", CloseTo(want, want, nan), false, "tolerance NaN")
	check(t, "length", CloseTo(want[:2], want, 0.1), false, "length 2, want 3")
	check(t, "all-zero want, absolute", CloseTo([]float64{0.1, 0}, []float64{0, 0}, 0.1), true, "")
	check(t, "all-zero want, past", CloseTo([]float64{math.Nextafter(0.1, 1), 0}, []float64{0, 0}, 0.1), false, "max error")

	// scale 40 > max|want| = 4: the tolerance is 0.1 x 40 = 4.
	check(t, "scaled, at the tolerance", CloseToAtLeast([]float64{8, -2, 0.5}, want, 0.1, 40), true, "")
	check(t, "scaled, past the tolerance", CloseToAtLeast([]float64{math.Nextafter(8, 9), -2, 0.5}, want, 0.1, 40), false, "max error")
	check(t, "scaled, NaN got", CloseToAtLeast([]float64{nan, -2, 0.5}, want, 0.1, 40), false, "element 0 is NaN")
	check(t, "scaled, +Inf got", CloseToAtLeast([]float64{posInf, -2, 0.5}, want, 0.1, 40), false, "element 0 is +Inf")
	check(t, "scaled, NaN want", CloseToAtLeast(want, []float64{nan, -2, 0.5}, 0.1, 40), false, "want element 0 is NaN")
	check(t, "NaN scale", CloseToAtLeast(want, want, 0.1, nan), false, "scale NaN")
}

// TestBetweenNegativeControls checks both ends, one step past each, NaN
// and infinities.
func TestBetweenNegativeControls(t *testing.T) {
	check(t, "low end", Between(0, 0, 1), true, "")
	check(t, "high end", Between(1, 0, 1), true, "")
	check(t, "below", Between(math.Nextafter(0, -1), 0, 1), false, "outside [0, 1]")
	check(t, "above", Between(math.Nextafter(1, 2), 0, 1), false, "outside [0, 1]")
	check(t, "NaN", Between(nan, 0, 1), false, "NaN is outside")
	check(t, "+Inf", Between(posInf, 0, 1), false, "+Inf is outside")
	check(t, "-Inf", Between(negInf, 0, 1), false, "-Inf is outside")
	check(t, "NaN bound", Between(0.5, 0, nan), false, "outside")
}

// TestEachWithinRelNegativeControls checks that each element is held to
// its own magnitude and that NaN and infinities fail anywhere.
func TestEachWithinRelNegativeControls(t *testing.T) {
	want := []float64{100, 1}
	check(t, "each at its tolerance", EachWithinRel([]float64{112.5, 1.125}, want, 0.125, 0), true, "")
	check(t, "small element past its own tolerance", EachWithinRel([]float64{100, math.Nextafter(1.125, 2)}, want, 0.125, 0), false, "element 1")
	check(t, "NaN got", EachWithinRel([]float64{100, nan}, want, 0.1, 0), false, "element 1")
	check(t, "+Inf got", EachWithinRel([]float64{posInf, 1}, want, 0.1, 0), false, "element 0")
	check(t, "NaN want", EachWithinRel(want, []float64{nan, 1}, 0.1, 0), false, "not a finite number")
	check(t, "length", EachWithinRel(want, want[:1], 0.1, 0), false, "length 2, want 1")
}
