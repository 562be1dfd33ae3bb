package progressive

import (
	"fmt"
	"math"
)

// Preset is the progressive-learning setting of one model: how many stages,
// and the range of each per-stage value from the first stage to the last.
type Preset struct {
	// Name is the model the preset belongs to, e.g. "efficientnetv2-s".
	Name string `json:"name"`
	// Stages is the number of stages M (4 in the paper).
	Stages int `json:"stages"`
	// ImageSize is the training image side length, in pixels.
	ImageSize SizeRange `json:"image_size"`
	// SizeMultiple is what the Paper formula rounds the sizes of the middle
	// stages to (8 for ImageNet models); 0 or 1 rounds to whole pixels.
	SizeMultiple int `json:"size_multiple"`
	// RandAugmentMagnitude is the RandAugment magnitude (0 turns it off).
	RandAugmentMagnitude Range `json:"randaugment_magnitude"`
	// MixupAlpha is the Mixup Beta(alpha, alpha) parameter (0 turns it off).
	MixupAlpha Range `json:"mixup_alpha"`
	// Dropout is the dropout rate before the classifier.
	Dropout Range `json:"dropout"`
	// Formula selects the paper's or the official code's interpolation.
	Formula Formula `json:"formula"`
}

// WithStages returns a copy of p that uses n stages; Plan reports an n below 1.
func (p Preset) WithStages(n int) Preset {
	p.Stages = n
	return p
}

// WithImageSize returns a copy of p whose image size grows from minSize to
// maxSize; Plan reports sizes below 1 or minSize > maxSize.
func (p Preset) WithImageSize(minSize, maxSize int) Preset {
	p.ImageSize = SizeRange{Min: minSize, Max: maxSize}
	return p
}

// WithFormula returns a copy of p that uses formula f.
func (p Preset) WithFormula(f Formula) Preset {
	p.Formula = f
	return p
}

// Validate reports the first setting of p that Plan cannot use.
func (p Preset) Validate() error {
	if p.Stages < 1 {
		return fmt.Errorf("progressive: preset %q: %d stages; use at least 1 (1 turns progressive learning off)", p.Name, p.Stages)
	}
	if err := p.ImageSize.check(p.Name); err != nil {
		return err
	}
	if p.SizeMultiple < 0 {
		return fmt.Errorf("progressive: preset %q: size multiple %d is negative; use 0 or 1 for whole pixels", p.Name, p.SizeMultiple)
	}
	if _, ok := formulaNames[p.Formula]; !ok {
		return fmt.Errorf("progressive: preset %q: unknown %v (use %v or %v)", p.Name, p.Formula, Paper, Official)
	}
	checks := []struct {
		name  string
		r     Range
		limit float64
	}{
		{"RandAugment magnitude", p.RandAugmentMagnitude, math.Inf(1)},
		{"mixup alpha", p.MixupAlpha, math.Inf(1)},
		{"dropout", p.Dropout, 1},
	}
	for _, c := range checks {
		if err := c.r.check(p.Name, c.name, c.limit); err != nil {
			return err
		}
	}
	return nil
}
