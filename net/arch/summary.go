package arch

import (
	"fmt"
	"strings"
)

// Summary is a model's per-stage table of shapes, parameters and
// multiply-adds for one square image size, ready for text (Format) or JSON.
type Summary struct {
	Model         string       `json:"model"`
	ImageSize     int          `json:"image_size"`
	InputChannels int          `json:"input_channels"`
	Classes       int          `json:"classes"`
	Rows          []SummaryRow `json:"rows"`
	Params        int          `json:"params"`        // trainable elements
	Buffers       int          `json:"buffers"`       // batch-norm running statistics and counters
	MultiplyAdds  int64        `json:"multiply_adds"` // per image
}

// SummaryRow is one stage of the model (stem, a block stage, head or
// classifier).
type SummaryRow struct {
	Stage        int    `json:"stage"`    // torchvision features index; classifier = head + 1
	Operator     string `json:"operator"` // e.g. "MBConv6 k3x3 SE", "Conv3x3", "Linear"
	In           int    `json:"in"`
	Out          int    `json:"out"`
	Stride       int    `json:"stride"`
	Repeats      int    `json:"repeats"`
	OutputShape  []int  `json:"output_shape"` // [C, H, W], or [classes] for the classifier
	Params       int    `json:"params"`
	MultiplyAdds int64  `json:"multiply_adds"`
}

// Summary returns the per-stage table for a square input of imageSize
// pixels. Multiply-adds count what torchvision's reported GFLOPS count: every
// convolution (depthwise included), the SE 1x1 convs and the classifier;
// batch norm, activations, pooling and residual adds are not counted.
func (c Config) Summary(imageSize int) (Summary, error) {
	if err := c.Validate(); err != nil {
		return Summary{}, err
	}
	if imageSize < 1 {
		return Summary{}, fmt.Errorf("arch: model %s: image size %d: need a positive size such as %d", c.Name, imageSize, c.EvalSize)
	}
	params := c.paramsByModule()
	s := Summary{Model: c.Name, ImageSize: imageSize, InputChannels: c.InputChannels, Classes: c.Classes}

	h := convOut(imageSize, 3, 2)
	w := h
	s.Rows = append(s.Rows, SummaryRow{
		Stage: 0, Operator: "Conv3x3", In: c.InputChannels, Out: c.Stem, Stride: 2, Repeats: 1,
		OutputShape: []int{c.Stem, h, w}, Params: params["features.0"],
		MultiplyAdds: int64(h*w) * int64(c.Stem*c.InputChannels*9),
	})

	blocks := c.Blocks()
	for si, st := range c.Stages {
		row := SummaryRow{
			Stage: si + 1, Operator: stageOperator(st), In: st.In, Out: st.Out, Stride: st.Stride,
			Repeats: st.Repeats, Params: params[fmt.Sprintf("features.%d", si+1)],
		}
		for _, b := range blocks {
			if b.Stage != si+1 {
				continue
			}
			row.MultiplyAdds += b.multiplyAdds(h, w)
			h, w = b.OutputSize(h, w)
		}
		row.OutputShape = []int{st.Out, h, w}
		s.Rows = append(s.Rows, row)
	}

	head := len(c.Stages) + 1
	last := c.Stages[len(c.Stages)-1].Out
	s.Rows = append(s.Rows, SummaryRow{
		Stage: head, Operator: "Conv1x1", In: last, Out: c.Head, Stride: 1, Repeats: 1,
		OutputShape: []int{c.Head, h, w}, Params: params[fmt.Sprintf("features.%d", head)],
		MultiplyAdds: int64(h*w) * int64(last*c.Head),
	})
	s.Rows = append(s.Rows, SummaryRow{
		Stage: head + 1, Operator: "Pool+Linear", In: c.Head, Out: c.Classes, Stride: 1, Repeats: 1,
		OutputShape: []int{c.Classes}, Params: params["classifier"],
		MultiplyAdds: int64(c.Head) * int64(c.Classes),
	})

	for _, r := range s.Rows {
		s.Params += r.Params
		s.MultiplyAdds += r.MultiplyAdds
	}
	s.Buffers = c.BufferCount()
	return s, nil
}

// stageOperator names a stage's block the way the paper's Table 4 does.
func stageOperator(st Stage) string {
	switch st.Kind {
	case FusedMBConv:
		return fmt.Sprintf("Fused-MBConv%d k%dx%d", st.Expand, st.Kernel, st.Kernel)
	default:
		return fmt.Sprintf("MBConv%d k%dx%d SE", st.Expand, st.Kernel, st.Kernel)
	}
}

// paramsByModule sums trainable elements per top-level module: "features.0",
// ..., "features.N", "classifier".
func (c Config) paramsByModule() map[string]int {
	sums := map[string]int{}
	for _, p := range c.Params() {
		if !p.Trainable {
			continue
		}
		parts := strings.SplitN(p.Name, ".", 3)
		key := parts[0]
		if key == "features" {
			key += "." + parts[1]
		}
		sums[key] += p.Elements()
	}
	return sums
}

// multiplyAdds counts the block's conv and SE multiply-adds for an h x w
// input.
func (b Block) multiplyAdds(h, w int) int64 {
	oh, ow := b.OutputSize(h, w)
	in, out, exp := int64(b.In), int64(b.Out), int64(b.Expanded)
	k2 := int64(b.Kernel * b.Kernel)
	inPix, outPix := int64(h*w), int64(oh*ow)
	var n int64
	switch b.Kind {
	case FusedMBConv:
		if b.Expands() {
			n += outPix * exp * in * k2 // fused kxk expand
			n += outPix * out * exp     // 1x1 project
		} else {
			n += outPix * out * in * k2
		}
	case MBConv:
		if b.Expands() {
			n += inPix * exp * in // 1x1 expand
		}
		n += outPix * exp * k2 // depthwise
		n += 2 * exp * int64(b.Squeeze)
		n += outPix * out * exp // 1x1 project
	}
	return n
}
