package engine

import "testing"

// TestTimestampTicks checks the masking of timestamps to their valid bits,
// including a counter that wraps between the two writes.
func TestTimestampTicks(t *testing.T) {
	cases := []struct {
		bits       uint32
		begin, end uint64
		want       uint64
	}{
		{64, 100, 250, 150},
		{0, 100, 250, 150},
		{36, 1<<36 - 10, 5, 15},                         // wrapped inside 36 bits
		{36, 0xdead<<36 | 1000, 0xbeef<<36 | 1600, 600}, // undefined high bits ignored
		{32, 1<<32 - 1, 1<<32 - 1, 0},
	}
	for _, c := range cases {
		if got := timestampTicks(c.begin, c.end, timestampMask(c.bits)); got != c.want {
			t.Errorf("%d bits, %#x -> %#x: got %d ticks, want %d", c.bits, c.begin, c.end, got, c.want)
		}
	}
}
