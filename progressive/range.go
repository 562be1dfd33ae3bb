package progressive

import (
	"fmt"
	"math"
)

// Range is a real-valued setting that grows from Min (first stage) to Max
// (last stage), such as a RandAugment magnitude or a dropout rate.
type Range struct {
	Min float64 `json:"min"`
	Max float64 `json:"max"`
}

// SizeRange is an image side length in pixels that grows from Min (first
// stage) to Max (last stage).
type SizeRange struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// at returns the value of r at stage i of m by the paper's linear
// interpolation Min + (Max-Min)*i/(m-1). The first and last stages return Min
// and Max exactly; a single stage returns Max.
func (r Range) at(i, m int) float64 {
	if i == m-1 {
		return r.Max
	}
	if i == 0 {
		return r.Min
	}
	t := float64(i) / float64(m-1)
	return r.Min + (r.Max-r.Min)*t
}

// check reports an error when r is not a usable range for the setting called
// name of preset: values must be finite, at least 0 and below limit (use
// math.Inf(1) for no limit), and Min must not exceed Max.
func (r Range) check(preset, name string, limit float64) error {
	for _, v := range []float64{r.Min, r.Max} {
		problem := ""
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			problem = "values must be finite numbers"
		case v < 0:
			problem = fmt.Sprintf("%g is negative; use 0 to turn it off", v)
		case v >= limit:
			problem = fmt.Sprintf("%g is not below %g", v, limit)
		}
		if problem != "" {
			return fmt.Errorf("progressive: preset %q: %s range %g -> %g: %s", preset, name, r.Min, r.Max, problem)
		}
	}
	if r.Min > r.Max {
		return fmt.Errorf("progressive: preset %q: %s range %g -> %g: the first stage's value must not exceed the last's (swap them)", preset, name, r.Min, r.Max)
	}
	return nil
}

// check reports an error when r is not a usable image size range of preset.
func (r SizeRange) check(preset string) error {
	if r.Min < 1 || r.Max < 1 {
		return fmt.Errorf("progressive: preset %q: image size range %d -> %d: sizes must be at least 1 pixel", preset, r.Min, r.Max)
	}
	if r.Min > r.Max {
		return fmt.Errorf("progressive: preset %q: image size range %d -> %d: the minimum must not exceed the maximum (swap them)", preset, r.Min, r.Max)
	}
	return nil
}

// roundToMultiple returns the multiple of m nearest to v, halves rounding up
// (away from zero); with m <= 1 it returns the nearest integer.
func roundToMultiple(v float64, m int) int {
	if m <= 1 {
		return int(math.Round(v))
	}
	return int(math.Round(v/float64(m))) * m
}

// clampInt returns v limited to [lo, hi].
func clampInt(v, lo, hi int) int {
	return max(lo, min(v, hi))
}
