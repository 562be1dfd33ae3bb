package progressive

import (
	"math"
	"strings"
	"testing"
)

// want is one stage's expected values.
type want struct {
	first, epochs, size int
	randAugment, mixup  float64
	dropout             float64
}

// mustPlan plans the named preset over epochs or fails the test.
func mustPlan(t *testing.T, model string, epochs int, edit func(Preset) Preset) Schedule {
	t.Helper()
	p, err := PresetFor(model)
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		p = edit(p)
	}
	s, err := Plan(p, epochs)
	if err != nil {
		t.Fatalf("Plan(%s, %d): %v", model, epochs, err)
	}
	return s
}

// checkStages compares every stage of s with wants.
func checkStages(t *testing.T, s Schedule, wants []want) {
	t.Helper()
	if len(s.Stages) != len(wants) {
		t.Fatalf("%s: %d stages, want %d", s.Preset.Name, len(s.Stages), len(wants))
	}
	const tol = 1e-12
	for i, w := range wants {
		got := s.Stages[i]
		if got.Index != i || got.FirstEpoch != w.first || got.Epochs != w.epochs || got.ImageSize != w.size {
			t.Errorf("%s stage %d: index %d, epochs from %d for %d, size %d; want index %d, epochs from %d for %d, size %d",
				s.Preset.Name, i, got.Index, got.FirstEpoch, got.Epochs, got.ImageSize, i, w.first, w.epochs, w.size)
		}
		if math.Abs(got.RandAugmentMagnitude-w.randAugment) > tol || math.Abs(got.MixupAlpha-w.mixup) > tol || math.Abs(got.Dropout-w.dropout) > tol {
			t.Errorf("%s stage %d: RandAugment %v, mixup %v, dropout %v; want %v, %v, %v",
				s.Preset.Name, i, got.RandAugmentMagnitude, got.MixupAlpha, got.Dropout, w.randAugment, w.mixup, w.dropout)
		}
	}
}

func TestPlanTable6Small(t *testing.T) {
	s := mustPlan(t, "efficientnetv2-s", 350, nil)
	if s.Epochs != 350 {
		t.Errorf("Epochs = %d, want 350", s.Epochs)
	}
	// Sizes: 128 + 172*i/3 = 128, 185.33, 242.67, 300 -> 128, 184, 240, 300.
	checkStages(t, s, []want{
		{0, 88, 128, 5, 0, 0.1},
		{88, 88, 184, 5 + 10.0/3, 0, 0.1 + 0.2/3},
		{176, 87, 240, 5 + 20.0/3, 0, 0.1 + 0.4/3},
		{263, 87, 300, 15, 0, 0.3},
	})
	// The endpoints are the table's values exactly, not interpolated ones.
	last := s.Stages[3]
	if last.Dropout != 0.3 || last.RandAugmentMagnitude != 15 || s.Stages[0].Dropout != 0.1 {
		t.Errorf("endpoint values drifted: first dropout %v, last dropout %v, last RandAugment %v", s.Stages[0].Dropout, last.Dropout, last.RandAugmentMagnitude)
	}
}

func TestPlanTable6Medium(t *testing.T) {
	s := mustPlan(t, "efficientnetv2-m", 350, nil)
	// Sizes: 128 + 252*i/3 = 128, 212, 296, 380; 212 = 26.5*8 rounds up to 216.
	checkStages(t, s, []want{
		{0, 88, 128, 5, 0, 0.1},
		{88, 88, 216, 10, 0.2 / 3, 0.2},
		{176, 87, 296, 15, 0.4 / 3, 0.3},
		{263, 87, 380, 20, 0.2, 0.4},
	})
}

func TestPlanTable6Large(t *testing.T) {
	s := mustPlan(t, "efficientnetv2-l", 350, nil)
	checkStages(t, s, []want{
		{0, 88, 128, 5, 0, 0.1},
		{88, 88, 216, 5 + 20.0/3, 0.4 / 3, 0.1 + 0.4/3},
		{176, 87, 296, 5 + 40.0/3, 0.8 / 3, 0.1 + 0.8/3},
		{263, 87, 380, 25, 0.4, 0.5},
	})
}

func TestPlanBaseAndPicoPresets(t *testing.T) {
	b0 := mustPlan(t, "efficientnetv2-b0", 40, nil)
	// 128 + 64*i/3 = 149.33 -> 152, 170.67 -> 168.
	checkStages(t, b0, []want{
		{0, 10, 128, 5, 0, 0.1},
		{10, 10, 152, 5 + 10.0/3, 0, 0.1 + 0.1/3},
		{20, 10, 168, 5 + 20.0/3, 0, 0.1 + 0.2/3},
		{30, 10, 192, 15, 0, 0.2},
	})
	b3 := mustPlan(t, "efficientnetv2-b3", 4, nil)
	if got := b3.Stages[3]; got.ImageSize != 240 || got.Dropout != 0.3 {
		t.Errorf("b3 last stage: size %d, dropout %v; want 240, 0.3", got.ImageSize, got.Dropout)
	}
	pico := mustPlan(t, "efficientnetv2-pico", 10, nil)
	checkStages(t, pico, []want{
		{0, 3, 16, 0, 0, 0.05},
		{3, 3, 20, 5.0 / 3, 0, 0.1},
		{6, 2, 24, 10.0 / 3, 0, 0.15},
		{8, 2, 28, 5, 0, 0.2},
	})
}

func TestPlanOfficialFormula(t *testing.T) {
	s := mustPlan(t, "efficientnetv2-s", 350, func(p Preset) Preset { return p.WithFormula(Official) })
	// floor(128 + 172*(i+1)/4) = 171, 214, 257, 300; dropout fixed at 0.3.
	checkStages(t, s, []want{
		{0, 88, 171, 5, 0, 0.3},
		{88, 88, 214, 5 + 10.0/3, 0, 0.3},
		{176, 87, 257, 5 + 20.0/3, 0, 0.3},
		{263, 87, 300, 15, 0, 0.3},
	})
	m := mustPlan(t, "efficientnetv2-m", 8, func(p Preset) Preset { return p.WithFormula(Official) })
	// floor(128 + 252*(i+1)/4) = 191, 254, 317, 380: no multiple-of-8 rounding.
	checkStages(t, m, []want{
		{0, 2, 191, 5, 0, 0.4},
		{2, 2, 254, 10, 0.2 / 3, 0.4},
		{4, 2, 317, 15, 0.4 / 3, 0.4},
		{6, 2, 380, 20, 0.2, 0.4},
	})
}

func TestPlanOneStageTrainsAtTheMaximum(t *testing.T) {
	for _, f := range []Formula{Paper, Official} {
		s := mustPlan(t, "efficientnetv2-l", 7, func(p Preset) Preset { return p.WithStages(1).WithFormula(f) })
		checkStages(t, s, []want{{0, 7, 380, 25, 0.4, 0.5}})
		if got := s.Stages[0].LastEpoch(); got != 6 {
			t.Errorf("%v: LastEpoch = %d, want 6", f, got)
		}
	}
}

func TestPlanOverrides(t *testing.T) {
	two := mustPlan(t, "efficientnetv2-s", 5, func(p Preset) Preset { return p.WithStages(2) })
	checkStages(t, two, []want{
		{0, 3, 128, 5, 0, 0.1},
		{3, 2, 300, 15, 0, 0.3},
	})
	sized := mustPlan(t, "efficientnetv2-s", 4, func(p Preset) Preset { return p.WithImageSize(64, 256) })
	for i, wantSize := range []int{64, 128, 192, 256} {
		if got := sized.Stages[i].ImageSize; got != wantSize {
			t.Errorf("sizes 64->256 stage %d: %d, want %d", i, got, wantSize)
		}
	}
	// Overrides return copies: the preset table itself is unchanged.
	p, _ := PresetFor("efficientnetv2-s")
	if p.Stages != 4 || p.ImageSize != (SizeRange{Min: 128, Max: 300}) {
		t.Errorf("preset changed by an override: %+v", p)
	}
}

func TestPlanEpochSplit(t *testing.T) {
	p, _ := PresetFor("efficientnetv2-s")
	for stages := 1; stages <= 9; stages++ {
		for epochs := stages; epochs <= 40; epochs++ {
			s, err := Plan(p.WithStages(stages), epochs)
			if err != nil {
				t.Fatalf("%d epochs, %d stages: %v", epochs, stages, err)
			}
			next := 0
			for i, st := range s.Stages {
				if st.FirstEpoch != next {
					t.Fatalf("%d epochs, %d stages: stage %d starts at %d, want %d", epochs, stages, i, st.FirstEpoch, next)
				}
				wantLen := epochs / stages
				if i < epochs%stages {
					wantLen++
				}
				if st.Epochs != wantLen {
					t.Fatalf("%d epochs, %d stages: stage %d has %d epochs, want %d", epochs, stages, i, st.Epochs, wantLen)
				}
				next += st.Epochs
			}
			if next != epochs {
				t.Fatalf("%d epochs, %d stages: stages cover %d epochs", epochs, stages, next)
			}
		}
	}
}

func TestPlanSizesStayOrderedAndInRange(t *testing.T) {
	odd := Preset{Name: "odd", ImageSize: SizeRange{Min: 130, Max: 141}, SizeMultiple: 8, Dropout: Range{Max: 0.5}}
	for _, base := range append(Presets(), odd) {
		for stages := 1; stages <= 12; stages++ {
			for _, f := range []Formula{Paper, Official} {
				s, err := Plan(base.WithStages(stages).WithFormula(f), 12)
				if err != nil {
					t.Fatalf("%s, %d stages, %v: %v", base.Name, stages, f, err)
				}
				prev := 0
				for _, st := range s.Stages {
					if st.ImageSize < base.ImageSize.Min || st.ImageSize > base.ImageSize.Max || st.ImageSize < prev {
						t.Fatalf("%s, %d stages, %v: sizes leave [%d, %d] or shrink: %+v", base.Name, stages, f, base.ImageSize.Min, base.ImageSize.Max, s.Stages)
					}
					prev = st.ImageSize
				}
				if got := s.Stages[stages-1].ImageSize; got != base.ImageSize.Max {
					t.Fatalf("%s, %d stages, %v: last size %d, want the maximum %d", base.Name, stages, f, got, base.ImageSize.Max)
				}
			}
		}
	}
}

func TestPlanRejectsBadInput(t *testing.T) {
	s, _ := PresetFor("efficientnetv2-s")
	nan := math.NaN()
	cases := []struct {
		name   string
		p      Preset
		epochs int
		want   string
	}{
		{"fewer epochs than stages", s, 3, "3 epochs cannot fill 4 stages"},
		{"zero epochs", s, 0, "0 epochs"},
		{"negative epochs", s, -5, "-5 epochs"},
		{"zero stages", s.WithStages(0), 10, "0 stages"},
		{"negative stages", s.WithStages(-2), 10, "-2 stages"},
		{"zero size", s.WithImageSize(0, 300), 10, "at least 1 pixel"},
		{"min above max", s.WithImageSize(300, 128), 10, "must not exceed"},
		{"negative multiple", func() Preset { p := s; p.SizeMultiple = -8; return p }(), 10, "size multiple -8"},
		{"dropout of 1", func() Preset { p := s; p.Dropout.Max = 1; return p }(), 10, "not below 1"},
		{"negative mixup", func() Preset { p := s; p.MixupAlpha.Min = -0.1; return p }(), 10, "mixup alpha range -0.1 -> 0: -0.1 is negative"},
		{"NaN magnitude", func() Preset { p := s; p.RandAugmentMagnitude.Max = nan; return p }(), 10, "finite"},
		{"decreasing dropout", func() Preset { p := s; p.Dropout = Range{Min: 0.3, Max: 0.1}; return p }(), 10, "swap them"},
		{"unknown formula", s.WithFormula(Formula(7)), 10, "Formula(7)"},
	}
	for _, c := range cases {
		got, err := Plan(c.p, c.epochs)
		if err == nil {
			t.Errorf("%s: Plan returned %+v, want an error", c.name, got)
			continue
		}
		if !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "progressive: ") {
			t.Errorf("%s: error %q, want the prefix %q and %q", c.name, err, "progressive: ", c.want)
		}
	}
}

func TestStageAt(t *testing.T) {
	s := mustPlan(t, "efficientnetv2-s", 350, nil)
	for _, c := range []struct{ epoch, stage int }{{0, 0}, {87, 0}, {88, 1}, {175, 1}, {176, 2}, {262, 2}, {263, 3}, {349, 3}} {
		st, err := s.StageAt(c.epoch)
		if err != nil || st.Index != c.stage {
			t.Errorf("StageAt(%d) = stage %d, %v; want stage %d", c.epoch, st.Index, err, c.stage)
		}
	}
	for _, epoch := range []int{-1, 350} {
		if _, err := s.StageAt(epoch); err == nil || !strings.Contains(err.Error(), "outside") {
			t.Errorf("StageAt(%d): error %v, want one saying it is outside the schedule", epoch, err)
		}
	}
}
