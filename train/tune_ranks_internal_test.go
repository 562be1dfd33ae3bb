package train

import "testing"

// TestTuneTurns: ranks of one device and cache file are served by the
// first of them; places of one device take turns; devices tune at once.
func TestTuneTurns(t *testing.T) {
	cases := []struct {
		name               string
		places             []string
		me                 int
		tuner, turn, turns int
	}{
		{"one device, second rank", []string{"h gpu\nc", "h gpu\nc"}, 1, 0, 0, 1},
		{"one device, first rank", []string{"h gpu\nc", "h gpu\nc"}, 0, 0, 0, 1},
		{"two devices", []string{"h gpu0\nc", "h gpu1\nc"}, 1, 1, 0, 1},
		{"same device id on two machines", []string{"a gpu\nc", "b gpu\nc"}, 1, 1, 0, 1},
		{"one device, two cache files", []string{"h gpu\nc1", "h gpu\nc2", "h gpu\nc1"}, 1, 1, 1, 2},
		{"one device, two cache files, a rank of the first", []string{"h gpu\nc1", "h gpu\nc2", "h gpu\nc1"}, 2, 0, 0, 2},
	}
	for _, c := range cases {
		tuner, turn, turns := tuneTurns(c.places, c.me)
		if tuner != c.tuner || turn != c.turn || turns != c.turns {
			t.Errorf("%s: rank %d gets tuner %d, turn %d of %d; want tuner %d, turn %d of %d", c.name, c.me, tuner, turn, turns, c.tuner, c.turn, c.turns)
		}
	}
}
