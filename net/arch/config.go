package arch

import (
	"fmt"
	"math"
)

// BlockKind says which inverted-residual block a stage is made of.
type BlockKind int

const (
	// FusedMBConv is the EfficientNetV2 block: one kxk conv (carrying the
	// stride) -> BN -> SiLU, then, when the expand ratio is not 1, a 1x1
	// projection -> BN. No squeeze-and-excitation.
	FusedMBConv BlockKind = iota + 1
	// MBConv is the EfficientNet (V1) block: 1x1 expand -> BN -> SiLU (skipped
	// when the expand ratio is 1), kxk depthwise (carrying the stride) -> BN ->
	// SiLU, squeeze-and-excitation, 1x1 projection -> BN.
	MBConv
)

// String returns the block's name as the paper writes it.
func (k BlockKind) String() string {
	switch k {
	case FusedMBConv:
		return "Fused-MBConv"
	case MBConv:
		return "MBConv"
	}
	return fmt.Sprintf("BlockKind(%d)", int(k))
}

// MarshalText writes the block kind as its name, so JSON shows "MBConv".
func (k BlockKind) MarshalText() ([]byte, error) { return []byte(k.String()), nil }

// UnmarshalText reads a block kind written by MarshalText, so a Config
// survives a JSON round trip (e.g. in checkpoint metadata).
func (k *BlockKind) UnmarshalText(text []byte) error {
	switch string(text) {
	case FusedMBConv.String():
		*k = FusedMBConv
	case MBConv.String():
		*k = MBConv
	default:
		return fmt.Errorf("arch: unknown block kind %q: want %q or %q", text, FusedMBConv, MBConv)
	}
	return nil
}

// Stage is one row of a stage table: Repeats blocks of the same kind; the
// first takes In channels to Out with the stage's stride, the others keep Out
// channels with stride 1.
type Stage struct {
	Kind    BlockKind `json:"kind"`
	Expand  int       `json:"expand"`  // expand ratio (1, 4 or 6 in the family)
	Kernel  int       `json:"kernel"`  // odd square kernel size of the spatial conv
	Stride  int       `json:"stride"`  // 1 or 2, applied by the first block only
	In      int       `json:"in"`      // input channels of the stage's first block
	Out     int       `json:"out"`     // output channels of every block
	Repeats int       `json:"repeats"` // number of blocks
}

// Config is one model of the family plus the settings that shape its
// training. Lookup returns a fresh copy; fields may be changed before use, and
// Validate says whether the result still describes a model.
type Config struct {
	Name string `json:"name"`

	InputChannels int     `json:"input_channels"` // image channels (3 for RGB)
	Stem          int     `json:"stem"`           // stem conv output channels (= first stage In)
	Stages        []Stage `json:"stages"`
	Head          int     `json:"head"`    // channels of the final 1x1 conv (1280 for S/M/L)
	Classes       int     `json:"classes"` // classifier outputs

	Dropout         float64 `json:"dropout"`          // dropout before the classifier
	StochasticDepth float64 `json:"stochastic_depth"` // drop-path rate of the last block; block i gets rate*i/blocks
	BNEps           float64 `json:"bn_eps"`           // batch-norm epsilon
	BNMomentum      float64 `json:"bn_momentum"`      // PyTorch convention: running = (1-m)*running + m*batch

	TrainSize int `json:"train_size"` // reference training image size
	EvalSize  int `json:"eval_size"`  // reference evaluation image size
}

// Default training settings shared by the family (torchvision V2 values).
const (
	DefaultStochasticDepth = 0.2
	DefaultBNEps           = 1e-3
	DefaultBNMomentum      = 0.1
)

// Validate checks that the config describes a buildable model and returns an
// error naming the first bad field.
func (c Config) Validate() error {
	name := c.Name
	if name == "" {
		name = "(unnamed)"
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("arch: model %s: %s", name, fmt.Sprintf(format, args...))
	}
	switch {
	case c.InputChannels < 1:
		return bad("input channels %d: need at least 1", c.InputChannels)
	case c.Stem < 1:
		return bad("stem width %d: need at least 1", c.Stem)
	case c.Head < 1:
		return bad("head width %d: need at least 1", c.Head)
	case c.Classes < 1:
		return bad("classes %d: need at least 1 (ImageNet uses 1000)", c.Classes)
	case len(c.Stages) == 0:
		return bad("no stages")
	case !inUnit(c.Dropout, false):
		return bad("dropout %g: need 0 <= dropout < 1", c.Dropout)
	case !inUnit(c.StochasticDepth, false):
		return bad("stochastic depth %g: need 0 <= rate < 1", c.StochasticDepth)
	case !(c.BNEps > 0) || math.IsInf(c.BNEps, 0):
		return bad("batch-norm eps %g: need a positive finite value such as 1e-3", c.BNEps)
	case !inUnit(c.BNMomentum, true):
		return bad("batch-norm momentum %g: need 0 <= m <= 1 in PyTorch convention (0.1; TF's 0.99 is 0.01 here)", c.BNMomentum)
	}
	prev := c.Stem
	for i, s := range c.Stages {
		n := i + 1
		switch {
		case s.Kind != FusedMBConv && s.Kind != MBConv:
			return bad("stage %d: unknown block kind %v", n, s.Kind)
		case s.In != prev:
			return bad("stage %d: input width %d does not match the previous output width %d", n, s.In, prev)
		case s.Out < 1:
			return bad("stage %d: output width %d: need at least 1", n, s.Out)
		case s.Expand < 1:
			return bad("stage %d: expand ratio %d: need at least 1", n, s.Expand)
		case s.Kernel < 1 || s.Kernel%2 == 0:
			return bad("stage %d: kernel %d: need an odd size such as 3", n, s.Kernel)
		case s.Stride != 1 && s.Stride != 2:
			return bad("stage %d: stride %d: need 1 or 2", n, s.Stride)
		case s.Repeats < 1:
			return bad("stage %d: repeats %d: need at least 1", n, s.Repeats)
		}
		prev = s.Out
	}
	return nil
}

// inUnit reports whether 0 <= v < 1 (or <= 1 when closed).
func inUnit(v float64, closed bool) bool {
	if closed {
		return v >= 0 && v <= 1
	}
	return v >= 0 && v < 1
}

// clone returns a copy that shares no slices with c.
func (c Config) clone() Config {
	c.Stages = append([]Stage(nil), c.Stages...)
	return c
}
