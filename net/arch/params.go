package arch

import (
	"fmt"
	"strconv"
)

// Role says what a parameter or buffer is, so initialisers, optimizers and
// exporters can treat each kind alike.
type Role int

const (
	ConvWeight       Role = iota + 1 // [out, in/groups, k, k]; depthwise has in/groups = 1
	ConvBias                         // [out]; only the SE 1x1 convs (fc1, fc2) have one
	LinearWeight                     // [classes, head]
	LinearBias                       // [classes]
	BNWeight                         // batch-norm gamma [C]
	BNBias                           // batch-norm beta [C]
	BNRunningMean                    // buffer [C]
	BNRunningVar                     // buffer [C]
	BNBatchesTracked                 // buffer, int64 scalar (shape [])
)

var roleNames = map[Role]string{
	ConvWeight: "conv_weight", ConvBias: "conv_bias", LinearWeight: "linear_weight", LinearBias: "linear_bias",
	BNWeight: "bn_weight", BNBias: "bn_bias", BNRunningMean: "bn_running_mean", BNRunningVar: "bn_running_var",
	BNBatchesTracked: "bn_num_batches_tracked",
}

// String returns the role's snake_case name.
func (r Role) String() string {
	if s, ok := roleNames[r]; ok {
		return s
	}
	return "Role(" + strconv.Itoa(int(r)) + ")"
}

// MarshalText writes the role as its name.
func (r Role) MarshalText() ([]byte, error) { return []byte(r.String()), nil }

// DType is the element type of a parameter or buffer.
type DType int

const (
	Float32 DType = iota + 1 // every parameter and the running statistics
	Int64                    // num_batches_tracked
)

// String returns the type as torch names it ("float32", "int64").
func (d DType) String() string {
	switch d {
	case Float32:
		return "float32"
	case Int64:
		return "int64"
	}
	return "DType(" + strconv.Itoa(int(d)) + ")"
}

// MarshalText writes the type as its name.
func (d DType) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Param is one entry of the model's state_dict.
type Param struct {
	Name          string `json:"name"`  // torchvision key, e.g. "features.4.0.block.2.fc1.weight"
	Shape         []int  `json:"shape"` // empty for a 0-d scalar
	Role          Role   `json:"role"`
	DType         DType  `json:"dtype"`
	Trainable     bool   `json:"trainable"`       // false for batch-norm buffers
	NoWeightDecay bool   `json:"no_weight_decay"` // biases and BN gamma/beta (official recipe)
}

// Elements returns the number of elements (1 for a 0-d scalar).
func (p Param) Elements() int {
	n := 1
	for _, d := range p.Shape {
		n *= d
	}
	return n
}

// Params returns the model's full state_dict table in torchvision's order and
// naming: parameters and batch-norm buffers, module by module.
func (c Config) Params() []Param {
	var t paramTable
	t.convBN("features.0", c.InputChannels, c.Stem, 3, 1)
	for _, b := range c.Blocks() {
		t.block(b)
	}
	last := c.Stem
	if n := len(c.Stages); n > 0 {
		last = c.Stages[n-1].Out
	}
	t.convBN(fmt.Sprintf("features.%d", len(c.Stages)+1), last, c.Head, 1, 1)
	t.add("classifier.1.weight", LinearWeight, c.Classes, c.Head)
	t.add("classifier.1.bias", LinearBias, c.Classes)
	return t.params
}

// ParamCount returns the number of trainable elements (what torchvision's
// sum(p.numel() for p in model.parameters()) reports).
func (c Config) ParamCount() int {
	n := 0
	for _, p := range c.Params() {
		if p.Trainable {
			n += p.Elements()
		}
	}
	return n
}

// BufferCount returns the number of non-trainable state_dict elements
// (batch-norm running statistics and counters).
func (c Config) BufferCount() int {
	n := 0
	for _, p := range c.Params() {
		if !p.Trainable {
			n += p.Elements()
		}
	}
	return n
}

// paramTable accumulates state_dict entries in order.
type paramTable struct{ params []Param }

func (t *paramTable) add(name string, role Role, shape ...int) {
	p := Param{Name: name, Shape: shape, Role: role, DType: Float32, Trainable: true}
	switch role {
	case BNRunningMean, BNRunningVar:
		p.Trainable = false
	case BNBatchesTracked:
		p.Trainable, p.DType, p.Shape = false, Int64, []int{}
	case ConvBias, LinearBias, BNWeight, BNBias:
		p.NoWeightDecay = true
	}
	t.params = append(t.params, p)
}

// convBN adds a torchvision Conv2dNormActivation: prefix.0 is the bias-free
// conv, prefix.1 the batch norm.
func (t *paramTable) convBN(prefix string, in, out, kernel, groups int) {
	t.add(prefix+".0.weight", ConvWeight, out, in/groups, kernel, kernel)
	t.batchNorm(prefix+".1", out)
}

func (t *paramTable) batchNorm(prefix string, channels int) {
	t.add(prefix+".weight", BNWeight, channels)
	t.add(prefix+".bias", BNBias, channels)
	t.add(prefix+".running_mean", BNRunningMean, channels)
	t.add(prefix+".running_var", BNRunningVar, channels)
	t.add(prefix+".num_batches_tracked", BNBatchesTracked)
}

// block adds one block's layers, numbered as torchvision's block Sequential.
func (t *paramTable) block(b Block) {
	layer := 0
	next := func() string {
		name := fmt.Sprintf("%s.block.%d", b.Prefix, layer)
		layer++
		return name
	}
	switch b.Kind {
	case FusedMBConv:
		if b.Expands() {
			t.convBN(next(), b.In, b.Expanded, b.Kernel, 1)
			t.convBN(next(), b.Expanded, b.Out, 1, 1)
		} else {
			t.convBN(next(), b.In, b.Out, b.Kernel, 1)
		}
	case MBConv:
		if b.Expands() {
			t.convBN(next(), b.In, b.Expanded, 1, 1)
		}
		t.convBN(next(), b.Expanded, b.Expanded, b.Kernel, b.Expanded)
		se := next()
		t.add(se+".fc1.weight", ConvWeight, b.Squeeze, b.Expanded, 1, 1)
		t.add(se+".fc1.bias", ConvBias, b.Squeeze)
		t.add(se+".fc2.weight", ConvWeight, b.Expanded, b.Squeeze, 1, 1)
		t.add(se+".fc2.bias", ConvBias, b.Expanded)
		t.convBN(next(), b.Expanded, b.Out, 1, 1)
	}
}
