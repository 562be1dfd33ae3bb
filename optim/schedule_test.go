package optim_test

import (
	"math"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/optim"
)

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

func TestExponentialSchedule(t *testing.T) {
	const base, warmup = 0.256, 5.0
	s, err := optim.NewSchedule("exponential", base, warmup, 350)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ epoch, want float64 }{
		{0, 0},                           // warmup starts at 0
		{-1, 0},                          // before training
		{2.5, base / 2},                  // linear
		{4.9, base * 4.9 / 5},            // warmup's end
		{5, base * 0.97 * 0.97},          // the decay counts from epoch 0: floor(5/2.4) = 2
		{7.1, base * 0.97 * 0.97},        // same stair (7.1/2.4 < 3)
		{7.4, base * 0.97 * 0.97 * 0.97}, // one period later: x0.97
		{2.4*100 + 0.1, base * math.Pow(0.97, 100)},
	} {
		if got := s.At(c.epoch); !near(got, c.want) {
			t.Errorf("exponential At(%v) = %v, want %v", c.epoch, got, c.want)
		}
	}
	if r := s.At(5+2.4) / s.At(5); !near(r, 0.97) {
		t.Errorf("2.4 epochs after warmup the rate is x%v, want x0.97", r)
	}
	noWarmup, err := optim.NewSchedule("Exponential", 1, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a, b, c := noWarmup.At(0), noWarmup.At(2.39), noWarmup.At(2.4); a != 1 || b != 1 || !near(c, 0.97) {
		t.Errorf("without warmup At(0), At(2.39), At(2.4) = %v %v %v, want 1 1 0.97", a, b, c)
	}
}

func TestCosineSchedule(t *testing.T) {
	const base, warmup, total = 0.1, 5.0, 100.0
	s, err := optim.NewSchedule("cosine", base, warmup, total)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ epoch, want float64 }{
		{0, 0},
		{1, base / 5},
		{warmup, base * (1 + math.Cos(math.Pi*warmup/total)) / 2},
		{50, base / 2},
		{total, 0},
		{total + 20, 0},
	} {
		if got := s.At(c.epoch); !near(got, c.want) {
			t.Errorf("cosine At(%v) = %v, want %v", c.epoch, got, c.want)
		}
	}
	if got := s.At(total); got != 0 {
		t.Errorf("cosine At(total) = %v, want exactly 0", got)
	}
	for e := warmup; e < total; e += 0.5 {
		if s.At(e+0.5) > s.At(e) {
			t.Fatalf("cosine rises after warmup: At(%v) = %v > At(%v) = %v", e+0.5, s.At(e+0.5), e, s.At(e))
		}
	}
}

func TestScheduleErrors(t *testing.T) {
	for _, c := range []struct {
		name                string
		base, warmup, total float64
		want                string
	}{
		{"linear", 0.1, 5, 100, "exponential, cosine"},
		{"cosine", 0.1, 5, 5, "beyond the warmup"},
		{"cosine", 0.1, 5, 0, "beyond the warmup"},
		{"exponential", -1, 5, 0, "base learning rate"},
		{"exponential", math.NaN(), 5, 0, "base learning rate"},
		{"exponential", 0.1, -2, 0, "warmup"},
	} {
		_, err := optim.NewSchedule(c.name, c.base, c.warmup, c.total)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("NewSchedule(%q, %v, %v, %v): error %v, want one mentioning %q", c.name, c.base, c.warmup, c.total, err, c.want)
		}
	}
	bad := optim.Schedule{Decay: optim.Exponential, Base: 1, DecayRate: 1.5, DecayEpochs: 2.4}
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "decay rate") {
		t.Errorf("decay rate 1.5: error %v", err)
	}
	bad = optim.Schedule{Decay: optim.Exponential, Base: 1, DecayRate: 0.97}
	if err := bad.Check(); err == nil || !strings.Contains(err.Error(), "decay period") {
		t.Errorf("decay period 0: error %v", err)
	}
}
