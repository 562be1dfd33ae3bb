package optim

import (
	"fmt"
	"math"
	"strings"
)

// Decay is the shape of a schedule after its warmup.
type Decay int

// The decays a Schedule knows.
const (
	// Exponential multiplies the rate by DecayRate every DecayEpochs
	// (staircase), counting from epoch 0: the paper's x0.97 every 2.4
	// epochs.
	Exponential Decay = iota
	// Cosine follows base * (1 + cos(pi * epoch / TotalEpochs)) / 2, reaching
	// 0 at TotalEpochs and staying there.
	Cosine
)

func (k Decay) String() string {
	switch k {
	case Exponential:
		return "exponential"
	case Cosine:
		return "cosine"
	}
	return fmt.Sprintf("Decay(%d)", int(k))
}

// Schedule is a learning rate as a function of the (fractional) epoch, as
// the official EfficientNetV2 code computes it: a linear warmup from 0 to
// Base over WarmupEpochs, then the decay, which counts its epochs from 0
// (warmup included), so the rate right after warmup is the decay's value
// there:
//
//	At(e) = Base * e / WarmupEpochs                         e < WarmupEpochs
//	At(e) = Base * DecayRate^floor(e / DecayEpochs)         Exponential
//	At(e) = Base * (1 + cos(pi * min(e, T) / T)) / 2        Cosine, T = TotalEpochs
type Schedule struct {
	Decay        Decay
	Base         float64 // peak rate (official: 0.016 * batch / 256)
	WarmupEpochs float64 // 0: no warmup
	DecayRate    float64 // Exponential: factor per DecayEpochs
	DecayEpochs  float64 // Exponential: epochs per factor
	TotalEpochs  float64 // Cosine: the rate is 0 from here on
}

// ScheduleNames lists the decays NewSchedule knows.
func ScheduleNames() []string { return []string{"exponential", "cosine"} }

// NewSchedule builds the schedule called name ("exponential" or "cosine",
// any case) peaking at base after warmupEpochs; the exponential one decays
// by the paper's 0.97 every 2.4 epochs, the cosine one reaches 0 at
// totalEpochs (unused by the exponential one).
func NewSchedule(name string, base, warmupEpochs, totalEpochs float64) (Schedule, error) {
	s := Schedule{Base: base, WarmupEpochs: warmupEpochs, DecayRate: 0.97, DecayEpochs: 2.4, TotalEpochs: totalEpochs}
	switch strings.ToLower(name) {
	case "exponential":
		s.Decay = Exponential
	case "cosine":
		s.Decay = Cosine
	default:
		return Schedule{}, fmt.Errorf("optim: unknown learning-rate schedule %q; choose one of %s", name, strings.Join(ScheduleNames(), ", "))
	}
	if err := s.Check(); err != nil {
		return Schedule{}, err
	}
	return s, nil
}

// Check reports a setting At cannot use.
func (s Schedule) Check() error {
	bad := func(v float64) bool { return math.IsNaN(v) || math.IsInf(v, 0) || v < 0 }
	switch {
	case bad(s.Base):
		return fmt.Errorf("optim: schedule: base learning rate %v must be a finite value >= 0", s.Base)
	case bad(s.WarmupEpochs):
		return fmt.Errorf("optim: schedule: warmup of %v epochs must be a finite value >= 0", s.WarmupEpochs)
	}
	switch s.Decay {
	case Exponential:
		if bad(s.DecayRate) || s.DecayRate > 1 {
			return fmt.Errorf("optim: schedule: decay rate %v must be in [0, 1]", s.DecayRate)
		}
		if bad(s.DecayEpochs) || s.DecayEpochs == 0 {
			return fmt.Errorf("optim: schedule: decay period of %v epochs must be a finite value > 0", s.DecayEpochs)
		}
	case Cosine:
		if bad(s.TotalEpochs) || s.TotalEpochs <= s.WarmupEpochs {
			return fmt.Errorf("optim: schedule: cosine needs total epochs (%v) beyond the warmup (%v epochs)", s.TotalEpochs, s.WarmupEpochs)
		}
	default:
		return fmt.Errorf("optim: schedule: unknown decay %v", s.Decay)
	}
	return nil
}

// At is the learning rate at epoch (fractional: step / steps per epoch).
func (s Schedule) At(epoch float64) float64 {
	if epoch < 0 {
		epoch = 0
	}
	if epoch < s.WarmupEpochs {
		return s.Base * epoch / s.WarmupEpochs
	}
	switch s.Decay {
	case Cosine:
		e := math.Min(epoch, s.TotalEpochs)
		return s.Base * (1 + math.Cos(math.Pi*e/s.TotalEpochs)) / 2
	default:
		return s.Base * math.Pow(s.DecayRate, math.Floor(epoch/s.DecayEpochs))
	}
}
