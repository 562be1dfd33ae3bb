package progressive

import "fmt"

// Stage is one stage of a schedule: a run of epochs trained at one image size
// and one regularization strength.
type Stage struct {
	// Index is the stage number, 0-based.
	Index int `json:"index"`
	// FirstEpoch is the stage's first epoch, 0-based.
	FirstEpoch int `json:"first_epoch"`
	// Epochs is how many epochs the stage trains.
	Epochs int `json:"epochs"`
	// ImageSize is the training image side length, in pixels.
	ImageSize int `json:"image_size"`
	// RandAugmentMagnitude is the RandAugment magnitude (0: off).
	RandAugmentMagnitude float64 `json:"randaugment_magnitude"`
	// MixupAlpha is the Mixup alpha (0: off).
	MixupAlpha float64 `json:"mixup_alpha"`
	// Dropout is the dropout rate before the classifier.
	Dropout float64 `json:"dropout"`
}

// LastEpoch returns the stage's last epoch, 0-based and inclusive.
func (s Stage) LastEpoch() int {
	return s.FirstEpoch + s.Epochs - 1
}

// Schedule is a preset laid out over a number of epochs.
type Schedule struct {
	// Preset is the preset the schedule was planned from.
	Preset Preset `json:"preset"`
	// Epochs is the total number of epochs, the sum of the stages' Epochs.
	Epochs int `json:"epochs"`
	// Stages are the stages in training order.
	Stages []Stage `json:"stages"`
}

// Plan lays p out over epochs: p.Stages stages of as equal a length as
// possible (the first epochs%Stages stages get one extra epoch), each with
// the values of p's formula. It reports an invalid preset, and fewer epochs
// than stages.
func Plan(p Preset, epochs int) (Schedule, error) {
	if err := p.Validate(); err != nil {
		return Schedule{}, err
	}
	if epochs < 1 {
		return Schedule{}, fmt.Errorf("progressive: preset %q: %d epochs; train for at least 1", p.Name, epochs)
	}
	m := p.Stages
	if epochs < m {
		return Schedule{}, fmt.Errorf("progressive: preset %q: %d epochs cannot fill %d stages; use at least %d epochs or at most %d stages", p.Name, epochs, m, m, epochs)
	}
	stages := make([]Stage, m)
	first := 0
	for i := range stages {
		n := epochs / m
		if i < epochs%m {
			n++
		}
		stages[i] = Stage{
			Index:                i,
			FirstEpoch:           first,
			Epochs:               n,
			ImageSize:            p.imageSizeAt(i),
			RandAugmentMagnitude: p.RandAugmentMagnitude.at(i, m),
			MixupAlpha:           p.MixupAlpha.at(i, m),
			Dropout:              p.dropoutAt(i),
		}
		first += n
	}
	return Schedule{Preset: p, Epochs: epochs, Stages: stages}, nil
}

// imageSizeAt returns the image size of stage i under p's formula.
func (p Preset) imageSizeAt(i int) int {
	r, m := p.ImageSize, p.Stages
	if p.Formula == Official {
		// floor(Min + (Max-Min)*(i+1)/M), exact in integers.
		return r.Min + (r.Max-r.Min)*(i+1)/m
	}
	// The first and last stages keep the preset's sizes exactly; a single
	// stage trains at the maximum.
	if i == m-1 {
		return r.Max
	}
	if i == 0 {
		return r.Min
	}
	exact := float64(r.Min) + float64(r.Max-r.Min)*float64(i)/float64(m-1)
	return clampInt(roundToMultiple(exact, p.SizeMultiple), r.Min, r.Max)
}

// dropoutAt returns the dropout rate of stage i under p's formula.
func (p Preset) dropoutAt(i int) float64 {
	if p.Formula == Official {
		return p.Dropout.Max
	}
	return p.Dropout.at(i, p.Stages)
}

// StageAt returns the stage that trains the 0-based epoch.
func (s Schedule) StageAt(epoch int) (Stage, error) {
	for _, st := range s.Stages {
		if epoch >= st.FirstEpoch && epoch <= st.LastEpoch() {
			return st, nil
		}
	}
	return Stage{}, fmt.Errorf("progressive: preset %q: epoch %d is outside the schedule's epochs 0-%d", s.Preset.Name, epoch, s.Epochs-1)
}
