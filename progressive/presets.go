package progressive

import (
	"fmt"
	"strings"
)

// imageNetSizeMultiple is the rounding of middle-stage image sizes for the
// ImageNet presets: a multiple of 8 halves exactly through the stem and the
// next two stride-2 stages, and suits vectorized kernels.
const imageNetSizeMultiple = 8

// paperPreset returns a four-stage ImageNet preset from the paper's Table 6.
func paperPreset(name string, maxSize int, randAugment, mixup, dropout Range) Preset {
	return Preset{
		Name:                 name,
		Stages:               4,
		ImageSize:            SizeRange{Min: 128, Max: maxSize},
		SizeMultiple:         imageNetSizeMultiple,
		RandAugmentMagnitude: randAugment,
		MixupAlpha:           mixup,
		Dropout:              dropout,
		Formula:              Paper,
	}
}

// basePreset returns the preset of a base model (B0..B3). The paper gives no
// progressive setting for them (Table 6 covers S, M and L; the official code
// trains them with AutoAugment and no Mixup). Our choice: the image size grows
// from 128 to the model's official training size, RandAugment and Mixup follow
// efficientnetv2-s (5 -> 15, none), and dropout grows from 0.1 to the model's
// official dropout rate, so the last stage trains as the official code does.
func basePreset(name string, trainSize int, dropout float64) Preset {
	return paperPreset(name, trainSize, Range{Min: 5, Max: 15}, Range{}, Range{Min: 0.1, Max: dropout})
}

// picoPreset is the preset for small-image datasets such as Fashion-MNIST
// (28x28 grayscale), used by the default training of the test model
// efficientnetv2-pico. The choices:
//   - 4 stages, as in the paper.
//   - Sizes 16 -> 28: the last stage trains at the native 28x28, the size the
//     model is evaluated at (upsampling to 32 would add compute and no
//     information); 16 keeps the garments recognizable, and with a multiple of
//     4 the stages are 16, 20, 24, 28, each an exact step of 4 pixels.
//   - RandAugment 0 -> 5: small images lose most of their content to strong
//     geometric augmentation, and a small model needs less regularization
//     (the paper scales regularization with model size).
//   - Mixup 0 -> 0: like efficientnetv2-s, the smallest Table 6 model.
//   - Dropout 0.05 -> 0.2: half of efficientnetv2-s's start, and B0's rate at
//     the end.
func picoPreset() Preset {
	return Preset{
		Name:                 "efficientnetv2-pico",
		Stages:               4,
		ImageSize:            SizeRange{Min: 16, Max: 28},
		SizeMultiple:         4,
		RandAugmentMagnitude: Range{Min: 0, Max: 5},
		MixupAlpha:           Range{},
		Dropout:              Range{Min: 0.05, Max: 0.2},
		Formula:              Paper,
	}
}

// Presets returns every known preset, in a fixed order: Table 6's S, M, L, the
// base models B0..B3, and the small-image pico preset. The slice is new on
// each call.
func Presets() []Preset {
	return []Preset{
		paperPreset("efficientnetv2-s", 300, Range{Min: 5, Max: 15}, Range{Min: 0, Max: 0}, Range{Min: 0.1, Max: 0.3}),
		paperPreset("efficientnetv2-m", 380, Range{Min: 5, Max: 20}, Range{Min: 0, Max: 0.2}, Range{Min: 0.1, Max: 0.4}),
		paperPreset("efficientnetv2-l", 380, Range{Min: 5, Max: 25}, Range{Min: 0, Max: 0.4}, Range{Min: 0.1, Max: 0.5}),
		basePreset("efficientnetv2-b0", 192, 0.2),
		basePreset("efficientnetv2-b1", 192, 0.2),
		basePreset("efficientnetv2-b2", 208, 0.3),
		basePreset("efficientnetv2-b3", 240, 0.3),
		picoPreset(),
	}
}

// Names returns the names of every known preset, in the order of Presets.
func Names() []string {
	presets := Presets()
	names := make([]string, len(presets))
	for i, p := range presets {
		names[i] = p.Name
	}
	return names
}

// PresetFor returns the preset of the named model ("efficientnetv2-s", any
// case); the error lists the known names.
func PresetFor(model string) (Preset, error) {
	want := strings.ToLower(strings.TrimSpace(model))
	for _, p := range Presets() {
		if p.Name == want {
			return p, nil
		}
	}
	return Preset{}, fmt.Errorf("progressive: no preset for model %q; known models: %s", model, strings.Join(Names(), ", "))
}
