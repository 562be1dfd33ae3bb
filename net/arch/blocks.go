package arch

import "fmt"

// SqueezeRatio is the squeeze-and-excitation reduction of MBConv blocks:
// squeeze channels = max(1, block input channels * 1/4).
const SqueezeRatio = 4

// Block is one inverted-residual block of a model, with everything a layer
// builder needs to know about it.
type Block struct {
	Stage    int       `json:"stage"`    // stage number, from 1 (= torchvision features index)
	Index    int       `json:"index"`    // position inside the stage, from 0
	ID       int       `json:"id"`       // position among all blocks, from 0
	Kind     BlockKind `json:"kind"`     //
	In       int       `json:"in"`       // input channels
	Out      int       `json:"out"`      // output channels
	Expanded int       `json:"expanded"` // channels after the expansion (torchvision adjust_channels(in, expand))
	Kernel   int       `json:"kernel"`   // kernel of the spatial conv (fused or depthwise)
	Stride   int       `json:"stride"`   // stride of the spatial conv
	Squeeze  int       `json:"squeeze"`  // SE squeeze channels, 0 when the block has no SE
	Residual bool      `json:"residual"` // stride 1 and In == Out: output = drop_path(branch) + input
	DropPath float64   `json:"drop_path"`
	Prefix   string    `json:"prefix"` // torchvision module path, e.g. "features.2.1"
}

// Expands reports whether the block has an expansion conv (Expanded differs
// from In): the fused kxk conv plus a 1x1 projection for Fused-MBConv, a 1x1
// expand conv for MBConv.
func (b Block) Expands() bool { return b.Expanded != b.In }

// HasSE reports whether the block has squeeze-and-excitation.
func (b Block) HasSE() bool { return b.Squeeze > 0 }

// OutputSize returns the spatial size of the block's output for an input of
// size h x w (symmetric padding (k-1)/2).
func (b Block) OutputSize(h, w int) (int, int) {
	return convOut(h, b.Kernel, b.Stride), convOut(w, b.Kernel, b.Stride)
}

// convOut is the output length of a conv with symmetric padding (k-1)/2.
func convOut(n, kernel, stride int) int {
	pad := (kernel - 1) / 2
	return (n+2*pad-kernel)/stride + 1
}

// NumBlocks returns the number of blocks in all stages.
func (c Config) NumBlocks() int {
	n := 0
	for _, s := range c.Stages {
		n += s.Repeats
	}
	return n
}

// Blocks returns every block of the model in execution order. Drop-path
// rates follow torchvision: StochasticDepth * ID / NumBlocks.
func (c Config) Blocks() []Block {
	total := c.NumBlocks()
	blocks := make([]Block, 0, total)
	for si, s := range c.Stages {
		for i := range s.Repeats {
			b := Block{
				Stage: si + 1, Index: i, ID: len(blocks), Kind: s.Kind,
				In: s.In, Out: s.Out, Kernel: s.Kernel, Stride: s.Stride,
				Prefix: fmt.Sprintf("features.%d.%d", si+1, i),
			}
			if i > 0 {
				b.In, b.Stride = s.Out, 1
			}
			b.Expanded = makeDivisible(float64(b.In * s.Expand))
			if s.Kind == MBConv {
				b.Squeeze = max(1, b.In/SqueezeRatio)
			}
			b.Residual = b.Stride == 1 && b.In == b.Out
			if total > 0 {
				b.DropPath = c.StochasticDepth * float64(b.ID) / float64(total)
			}
			blocks = append(blocks, b)
		}
	}
	return blocks
}
