package arch

import (
	"fmt"
	"strings"
)

// Model names known to Lookup, smallest first.
const (
	Pico = "efficientnetv2-pico"
	B0   = "efficientnetv2-b0"
	B1   = "efficientnetv2-b1"
	B2   = "efficientnetv2-b2"
	B3   = "efficientnetv2-b3"
	S    = "efficientnetv2-s"
	M    = "efficientnetv2-m"
	L    = "efficientnetv2-l"
)

// family maps a name to a function building its config (fresh slices each
// call, so callers may edit the result).
var family = map[string]func() Config{
	Pico: pico,
	B0:   func() Config { return base(B0, 1.0, 1.0, 0.2, 192, 224) },
	B1:   func() Config { return base(B1, 1.0, 1.1, 0.2, 192, 240) },
	B2:   func() Config { return base(B2, 1.1, 1.2, 0.3, 208, 260) },
	B3:   func() Config { return base(B3, 1.2, 1.4, 0.3, 240, 300) },
	S:    small,
	M:    medium,
	L:    large,
}

// Names returns the known model names, smallest model first.
func Names() []string {
	return []string{Pico, B0, B1, B2, B3, S, M, L}
}

// Lookup returns the config of the named model with a classifier of the
// given number of classes and the family's default training settings.
func Lookup(name string, classes int) (Config, error) {
	build, ok := family[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Config{}, fmt.Errorf("arch: unknown model %q: known models are %s", name, strings.Join(Names(), ", "))
	}
	if classes < 1 {
		return Config{}, fmt.Errorf("arch: model %s: classes %d: need at least 1 (ImageNet uses 1000)", name, classes)
	}
	cfg := build()
	cfg.Classes = classes
	return cfg, cfg.Validate()
}

// withDefaults fills the settings every member shares.
func withDefaults(c Config) Config {
	c.InputChannels = 3
	c.StochasticDepth = DefaultStochasticDepth
	c.BNEps = DefaultBNEps
	c.BNMomentum = DefaultBNMomentum
	c.Classes = 1000
	return c
}

// fused and mb write a stage-table row: kind, expand, kernel, stride, in, out, repeats.
func fused(e, k, s, in, out, r int) Stage {
	return Stage{Kind: FusedMBConv, Expand: e, Kernel: k, Stride: s, In: in, Out: out, Repeats: r}
}

func mb(e, k, s, in, out, r int) Stage {
	return Stage{Kind: MBConv, Expand: e, Kernel: k, Stride: s, In: in, Out: out, Repeats: r}
}

// small is EfficientNetV2-S (paper Table 4, torchvision efficientnet_v2_s).
func small() Config {
	return withDefaults(Config{
		Name: S, Stem: 24, Head: 1280, Dropout: 0.2, TrainSize: 300, EvalSize: 384,
		Stages: []Stage{
			fused(1, 3, 1, 24, 24, 2),
			fused(4, 3, 2, 24, 48, 4),
			fused(4, 3, 2, 48, 64, 4),
			mb(4, 3, 2, 64, 128, 6),
			mb(6, 3, 1, 128, 160, 9),
			mb(6, 3, 2, 160, 256, 15),
		},
	})
}

// medium is EfficientNetV2-M (torchvision efficientnet_v2_m).
func medium() Config {
	return withDefaults(Config{
		Name: M, Stem: 24, Head: 1280, Dropout: 0.3, TrainSize: 384, EvalSize: 480,
		Stages: []Stage{
			fused(1, 3, 1, 24, 24, 3),
			fused(4, 3, 2, 24, 48, 5),
			fused(4, 3, 2, 48, 80, 5),
			mb(4, 3, 2, 80, 160, 7),
			mb(6, 3, 1, 160, 176, 14),
			mb(6, 3, 2, 176, 304, 18),
			mb(6, 3, 1, 304, 512, 5),
		},
	})
}

// large is EfficientNetV2-L (torchvision efficientnet_v2_l).
func large() Config {
	return withDefaults(Config{
		Name: L, Stem: 32, Head: 1280, Dropout: 0.4, TrainSize: 384, EvalSize: 480,
		Stages: []Stage{
			fused(1, 3, 1, 32, 32, 4),
			fused(4, 3, 2, 32, 64, 7),
			fused(4, 3, 2, 64, 96, 7),
			mb(4, 3, 2, 96, 192, 10),
			mb(6, 3, 1, 192, 224, 19),
			mb(6, 3, 2, 224, 384, 25),
			mb(6, 3, 1, 384, 640, 7),
		},
	})
}

// baseStages is the official EfficientNetV2 base table (effnetv2_configs
// v2_base_block) that B0..B3 scale.
var baseStages = []Stage{
	fused(1, 3, 1, 32, 16, 1),
	fused(4, 3, 2, 16, 32, 2),
	fused(4, 3, 2, 32, 48, 2),
	mb(4, 3, 2, 48, 96, 3),
	mb(6, 3, 1, 96, 112, 5),
	mb(6, 3, 2, 112, 192, 8),
}

// base scales the base table: widths with RoundFilters (stem and the 1280
// head included, as the official Stem and Head layers do), repeats with
// RoundRepeats.
func base(name string, width, depth, dropout float64, train, eval int) Config {
	stages := make([]Stage, len(baseStages))
	for i, s := range baseStages {
		s.In = RoundFilters(s.In, width)
		s.Out = RoundFilters(s.Out, width)
		s.Repeats = RoundRepeats(s.Repeats, depth)
		stages[i] = s
	}
	return withDefaults(Config{
		Name: name, Stem: stages[0].In, Head: RoundFilters(1280, width), Dropout: dropout,
		TrainSize: train, EvalSize: eval, Stages: stages,
	})
}

// pico is the small member for tests and demos: it has every block shape the
// big models use (Fused e1 with residual, Fused e4, MBConv with SE, stride 2,
// residual MBConv) at a size that runs in milliseconds.
func pico() Config {
	return withDefaults(Config{
		Name: Pico, Stem: 16, Head: 256, Dropout: 0.2, TrainSize: 64, EvalSize: 64,
		Stages: []Stage{
			fused(1, 3, 1, 16, 16, 1),
			fused(4, 3, 2, 16, 24, 2),
			mb(4, 3, 2, 24, 48, 2),
			mb(6, 3, 1, 48, 64, 1),
		},
	})
}
