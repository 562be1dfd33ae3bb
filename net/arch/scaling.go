package arch

import "math"

// ChannelDivisor is the multiple every scaled width is rounded to.
const ChannelDivisor = 8

// RoundFilters scales a channel count by a width multiplier the way the
// official EfficientNetV2 code does (google/automl efficientnetv2,
// effnetv2_model.round_filters): the scaled value is rounded to the nearest
// multiple of 8, never below 8. Unlike EfficientNet V1 and torchvision's
// _make_divisible, the official V2 code has no "do not round down by more
// than 10%" correction, and timm's port of the V2 base models turns it off
// too (round_limit=0), so the pretrained B0..B3 weights have these widths. The
// two rules differ only for B3's first stage (16*1.2 = 19.2 -> 16 here, 24
// with the 10% rule).
//
// A multiplier of 0 means "no scaling" and returns filters unchanged.
func RoundFilters(filters int, multiplier float64) int {
	if multiplier == 0 {
		return filters
	}
	scaled := float64(filters) * multiplier
	rounded := int(scaled+ChannelDivisor/2) / ChannelDivisor * ChannelDivisor
	return max(ChannelDivisor, rounded)
}

// RoundRepeats scales a stage's block count by a depth multiplier, rounding
// up (official round_repeats and torchvision's adjust_depth). A multiplier of
// 0 returns repeats unchanged.
func RoundRepeats(repeats int, multiplier float64) int {
	if multiplier == 0 {
		return repeats
	}
	return int(math.Ceil(multiplier * float64(repeats)))
}

// makeDivisible is torchvision's _make_divisible(v, 8): round to the nearest
// multiple of 8 (at least 8), adding 8 when that lost more than 10%.
// torchvision uses it for a block's expanded width (in * expand ratio).
func makeDivisible(v float64) int {
	rounded := max(ChannelDivisor, int(v+ChannelDivisor/2)/ChannelDivisor*ChannelDivisor)
	if float64(rounded) < 0.9*v {
		rounded += ChannelDivisor
	}
	return rounded
}
