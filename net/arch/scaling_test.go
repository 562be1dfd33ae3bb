package arch

import "testing"

func TestRoundFilters(t *testing.T) {
	cases := []struct {
		filters int
		mult    float64
		want    int
	}{
		{32, 1.0, 32}, {16, 1.1, 16}, {48, 1.1, 56}, {96, 1.1, 104}, {1280, 1.1, 1408},
		{32, 1.2, 40}, {16, 1.2, 16}, // the official V2 rule: no +8 when rounding down by more than 10%
		{192, 1.2, 232}, {1280, 1.2, 1536}, {3, 1.0, 8}, {20, 1.0, 24}, {7, 0, 7},
	}
	for _, c := range cases {
		if got := RoundFilters(c.filters, c.mult); got != c.want {
			t.Errorf("RoundFilters(%d, %g) = %d, want %d", c.filters, c.mult, got, c.want)
		}
	}
}

func TestRoundRepeats(t *testing.T) {
	cases := []struct {
		repeats int
		mult    float64
		want    int
	}{
		{1, 1.1, 2}, {3, 1.1, 4}, {5, 1.2, 6}, {8, 1.2, 10}, {5, 1.4, 7}, {8, 1.4, 12}, {4, 1.0, 4}, {4, 0, 4},
	}
	for _, c := range cases {
		if got := RoundRepeats(c.repeats, c.mult); got != c.want {
			t.Errorf("RoundRepeats(%d, %g) = %d, want %d", c.repeats, c.mult, got, c.want)
		}
	}
}

// makeDivisible is torchvision's rule for expanded widths, which keeps the
// 10% correction.
func TestMakeDivisible(t *testing.T) {
	cases := map[float64]int{96: 96, 19.2: 24, 3: 8, 100: 104, 12: 16, 11.9: 16, 4: 8}
	for v, want := range cases {
		if got := makeDivisible(v); got != want {
			t.Errorf("makeDivisible(%g) = %d, want %d", v, got, want)
		}
	}
}
