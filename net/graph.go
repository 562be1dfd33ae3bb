package net

import (
	"errors"
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/ops"
)

// GraphConfig says what one recording of the network does.
type GraphConfig struct {
	Batch int // images per step
	Size  int // image height and width fed to the stem

	// Train uses batch statistics in batch norm; UpdateRunning also
	// updates the running statistics (as PyTorch's train mode does).
	Train, UpdateRunning bool
	// Backward records the loss and the backward pass; the gradients land
	// in Store.Grads.
	Backward bool
	// Regularize turns on drop path and dropout (train only).
	Regularize bool
	// Dropout before the classifier when Regularize is on (the progressive
	// stage's value); negative means the config's.
	Dropout float64
	// LabelSmoothing of the hard-label loss.
	LabelSmoothing float64
	// SoftTargets takes float targets [N,classes] (mixup) instead of labels.
	SoftTargets bool
	// Raw, when set, feeds uint8 NHWC images of this height, width and
	// channel count, normalized and resized to Size on the device; else
	// Input takes float32 [N,3,Size,Size].
	Raw *RawInput
	// Profile records per-kernel timestamps.
	Profile bool
	// SyncBN, when set in a training graph, computes batch-norm statistics
	// over the global batch of a data-parallel job (see SyncBN).
	SyncBN *SyncBN
	// Frozen is how many leading torchvision features modules (the stem is
	// features.0, stage i is features.i) run as fixed functions: batch norm
	// with running statistics, no drop path, no backward (see freeze.go).
	Frozen int
	// Unfused records every batch norm and residual sum as a pass of its
	// own: the path the fusions are tested against. By default a block's
	// residual sum is folded into its last batch norm, and in a forward-only
	// evaluation graph batch norm (with its SiLU and the residual) into the
	// producing conv's epilogue (see fusion.go).
	Unfused bool
}

// RawInput describes uint8 NHWC images and their normalization.
type RawInput struct {
	H, W, C   int
	Mean, Std [3]float32
}

// Graph is the network recorded once for a GraphConfig, replayed by Run.
// Fill Input (or Raw), Labels or Targets and RNG before each Run.
type Graph struct {
	Config GraphConfig
	Seq    *engine.Sequence

	Raw     *engine.Tensor // uint8 [N,H,W,C] when Config.Raw is set
	Input   *engine.Tensor // float32 [N,3,Size,Size]
	Labels  *engine.Tensor // int32 [N] (hard labels)
	Targets *engine.Tensor // float32 [N,classes] (soft targets)
	RNG     *engine.Tensor // uint32 [4]: seed low, seed high, step, 0
	Logits  *engine.Tensor // float32 [N,classes]
	Loss    *engine.Tensor // float32 [1]: mean loss
	Correct *engine.Tensor // float32 [2]: top-1 and top-5 correct counts

	// PlannedBytes is the device memory the graph's activations and scratch
	// were planned to take before they were allocated (see PlanGraph).
	PlannedBytes uint64

	model  *Model
	b      *builder
	stem   *convBN
	blocks []*block
	head   *head
}

// Model is a configured EfficientNetV2 with its parameters on a device.
type Model struct {
	Config arch.Config
	Store  *Store
	Dev    *engine.Device
}

// NewModel lays out cfg on d with torchvision's initialization from seed.
func NewModel(d *engine.Device, cfg arch.Config, seed uint64) (*Model, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	st, err := NewStore(d, cfg, seed)
	if err != nil {
		return nil, err
	}
	return &Model{Config: cfg, Store: st, Dev: d}, nil
}

// Free releases the model's parameters.
func (m *Model) Free() { m.Store.Free() }

// Record allocates the activations of gc and records the network (forward,
// and loss + backward when asked) into a sequence; after, when not nil,
// appends more dispatches (e.g. the optimizer's) to the same sequence.
// The activations and scratch are planned first (PlanGraph): when they do
// not fit the device memory left, one error says what they need, what the
// device has and the largest batch that fits, and nothing is allocated.
func (m *Model) Record(gc GraphConfig, after func(s *engine.Sequence) error) (*Graph, error) {
	if m.Dev.Planning() {
		return m.record(gc, after)
	}
	need, err := m.PlanGraph(gc, after)
	if err != nil {
		return nil, err
	}
	if err := m.checkGraphPlan(gc, after, need); err != nil {
		return nil, err
	}
	g, err := m.record(gc, after)
	if err != nil {
		return nil, err
	}
	g.PlannedBytes = need
	return g, nil
}

// record is Record without the plan.
func (m *Model) record(gc GraphConfig, after func(s *engine.Sequence) error) (*Graph, error) {
	if gc.Batch < 1 || gc.Size < 8 {
		return nil, fmt.Errorf("net: batch %d and image size %d: need batch >= 1 and size >= 8", gc.Batch, gc.Size)
	}
	if gc.Backward && !gc.Train {
		return nil, fmt.Errorf("net: backward needs train mode")
	}
	if gc.Dropout < 0 {
		gc.Dropout = m.Config.Dropout
	}
	if gc.SyncBN != nil && (!gc.Train || gc.SyncBN.Ranks < 1 || gc.SyncBN.Average == nil) {
		return nil, fmt.Errorf("net: SyncBN needs a training graph, ranks >= 1 and an Average function")
	}
	b := &builder{dev: m.Dev, store: m.Store, backward: gc.Backward, sync: gc.SyncBN, fusion: newFusion(gc)}
	g := &Graph{Config: gc, model: m, b: b}
	inUse := m.Dev.Memory().InUse
	_, free := m.Dev.TensorMemory()
	// activationsError names the activations when they do not fit.
	activationsError := func(err error) error {
		if !errors.Is(err, engine.ErrOutOfDeviceMemory) {
			return err
		}
		return fmt.Errorf("net: the activations of %s at batch %d, %dx%d need more than the %s of device memory left after the model's state and other graphs (%s): use a smaller batch or image size: %w",
			m.Config.Name, gc.Batch, gc.Size, gc.Size, engine.FormatBytes(free), engine.FormatBytes(inUse), err)
	}
	if err := g.build(); err != nil {
		b.free()
		return nil, activationsError(err)
	}
	seq, err := m.Dev.NewSequence(fmt.Sprintf("%s b%d s%d", m.Config.Name, gc.Batch, gc.Size), engine.SequenceOptions{Profile: gc.Profile, MaxDispatches: 8192})
	if err != nil {
		b.free()
		return nil, err
	}
	g.Seq = seq
	g.record(seq)
	if after != nil && seq.Err() == nil {
		if err := after(seq); err != nil {
			g.Free()
			return nil, err
		}
	}
	if err := seq.Finish(); err != nil {
		g.Free()
		return nil, activationsError(err)
	}
	return g, nil
}

func (g *Graph) build() error {
	gc, cfg, b := g.Config, g.model.Config, g.b
	n := gc.Batch
	if gc.Raw != nil {
		r := gc.Raw
		if r.C != 1 && r.C != 3 {
			return fmt.Errorf("net: raw input with %d channels: want 1 or 3", r.C)
		}
		g.Raw = b.typed("raw-input", engine.Uint8, n, r.H, r.W, r.C)
	}
	g.Input = b.tensor("input", n, cfg.InputChannels, gc.Size, gc.Size)
	g.RNG = b.typed("rng", engine.Uint32, 4)
	if b.err != nil {
		return b.err
	}
	if err := checkFrozen(cfg, gc); err != nil {
		return err
	}
	var err error
	if g.stem, err = b.newConvBN("features.0", fullConv, 2, ops.ActSiLU, g.Input, false); err != nil {
		return err
	}
	x := g.stem.y
	specs := cfg.Blocks()
	for i, spec := range specs {
		bl, err := b.newBlock(spec, x, gc.Regularize && spec.Stage >= gc.Frozen)
		if err != nil {
			return err
		}
		if i > 0 && !stageEnd(specs, i-1) {
			b.done(x) // the previous block's output, unless a feature map
		}
		if gc.Frozen > 0 && spec.Stage == gc.Frozen && spec.Index == 0 {
			bl.expand.needDX = false // its input comes from frozen layers
		}
		g.blocks = append(g.blocks, bl)
		x = bl.out
	}
	if g.head, err = b.newHead(fmt.Sprintf("features.%d", len(cfg.Stages)+1), x, gc); err != nil {
		return err
	}
	switch head := len(cfg.Stages) + 1; {
	case gc.Frozen > head:
		g.head.frozenConv = true // only the classifier trains
	case gc.Frozen == head:
		g.head.conv.needDX = false // every block before the head is frozen
	}
	g.Logits = g.head.logits
	if gc.Backward {
		g.Loss = b.tensor("loss", 1)
		g.Correct = b.tensor("correct", 2)
		if gc.SoftTargets {
			g.Targets = b.tensor("targets", n, cfg.Classes)
		} else {
			g.Labels = b.typed("labels", engine.Int32, n)
		}
	}
	return b.err
}

func (g *Graph) record(s *engine.Sequence) {
	gc, cfg := g.Config, g.model.Config
	m := &mode{train: gc.Train, updateRunning: gc.UpdateRunning, eps: float32(cfg.BNEps), momentum: float32(cfg.BNMomentum)}
	if gc.Raw != nil {
		ops.PrepareInput(s, g.Input, g.Raw, gc.Raw.Mean, gc.Raw.Std)
	}
	g.stem.forward(s, g.layerMode(m, 0))
	for _, bl := range g.blocks {
		bl.forward(s, g.layerMode(m, bl.spec.Stage), g.RNG)
	}
	g.head.forward(s, g.layerMode(m, len(cfg.Stages)+1), g.RNG)
	if !gc.Backward {
		return
	}
	if gc.SoftTargets {
		ops.SoftmaxCrossEntropySoft(s, g.Loss, g.Correct, g.head.dlogits, g.Logits, g.Targets)
	} else {
		ops.SoftmaxCrossEntropy(s, g.Loss, g.Correct, g.head.dlogits, g.Logits, g.Labels, float32(gc.LabelSmoothing))
	}
	b := g.b
	dx := g.head.backward(s, b, g.RNG)
	for i := len(g.blocks) - 1; i >= 0 && g.blocks[i].spec.Stage >= gc.Frozen; i-- {
		next := g.blocks[i].backward(s, b, dx, g.RNG)
		b.release(dx)
		dx = next
	}
	if gc.Frozen == 0 {
		g.stem.backward(s, b, dx)
	}
	b.release(dx)
	if b.err != nil {
		s.Fail(b.err)
	}
}

// Run replays the recording once and waits for it.
func (g *Graph) Run() error { return g.model.Dev.Run(g.Seq) }

// SetRNG uploads the seed and step that drop path and dropout masks derive
// from (Philox counters), so a (seed, step) pair reproduces the masks.
func (g *Graph) SetRNG(seed uint64, step uint32) error {
	return ops.SetRNGState(g.RNG, seed, step)
}

// SetRNGAt is SetRNG for a graph whose batch is the slice of a larger batch
// that starts at sample first (a data-parallel rank's): its masks are those
// of samples first, first+1, ... of the whole batch.
func (g *Graph) SetRNGAt(seed uint64, step, first uint32) error {
	return ops.SetRNGStateAt(g.RNG, seed, step, first)
}

// Free releases the recording and the graph's activations.
func (g *Graph) Free() {
	if g.Seq != nil {
		g.Seq.Release()
	}
	g.b.free()
}

// FeatureMaps returns the output of the stem and of each stage's last
// block (batch-first NCHW), for visualization. They hold their values
// after a Run in every graph (a forward-only graph's memory plan keeps
// them).
func (g *Graph) FeatureMaps() []*engine.Tensor {
	out := []*engine.Tensor{g.stem.y}
	specs := g.model.Config.Blocks()
	for i, bl := range g.blocks {
		if stageEnd(specs, i) {
			out = append(out, bl.out)
		}
	}
	return out
}

// stageEnd reports whether block i is the last of its stage.
func stageEnd(specs []arch.Block, i int) bool {
	return i == len(specs)-1 || specs[i+1].Stage != specs[i].Stage
}

// GradientPlan reports the activation memory plan of the backward pass: how
// many gradient tensors the recording used and how many buffers held them.
func (g *Graph) GradientPlan() (gradients, buffers int) { return g.b.grads.requests, g.b.grads.buffers }

// ActivationPlan reports the memory plan of the forward pass: how many
// activation tensors the recording used and how many buffers held them
// (equal in a graph with a backward pass, which keeps every activation).
func (g *Graph) ActivationPlan() (activations, buffers int) {
	return g.b.acts.requests, g.b.acts.buffers
}
