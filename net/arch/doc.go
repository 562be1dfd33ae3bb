// Package arch describes the EfficientNetV2 family as plain data: the stage
// tables of EfficientNetV2-S/M/L, the scaled base models B0..B3 and a small
// member for tests and demos (efficientnetv2-pico), the flat list of blocks a
// model is built from, the full parameter table in torchvision's state_dict
// order and naming, and a per-stage summary of parameters and multiply-adds.
//
// It owns no tensors and knows nothing of Vulkan: layers, blocks and the
// optimizer read these tables to allocate, initialise, name and export what
// they hold, so the model's shape is written down exactly once.
//
// Conventions follow torchvision's models/efficientnet.py so that weights can
// move between the two: symmetric padding (k-1)/2, the stem takes the input
// channels to the first stage's input width with a 3x3 stride-2 conv, MBConv
// blocks always carry squeeze-and-excitation with max(1, in/4) squeeze
// channels computed from the block's input width, Fused-MBConv never does,
// and stochastic depth grows linearly with the block index.
//
// The base models B0..B3 scale the official base table: widths (stem and
// 1280 head included) with RoundFilters, the official V2 rule, which has no
// "round down by at most 10%" correction (timm's port agrees; it only
// matters for B3's first stage, 16 channels); repeats with RoundRepeats
// (ceil). Expanded widths use torchvision's _make_divisible, which equals
// in*expand for every member of the family.
//
// A typical use:
//
//	cfg, err := arch.Lookup("efficientnetv2-s", 1000)
//	if err != nil { ... }
//	for _, b := range cfg.Blocks() { ... }   // build layers
//	for _, p := range cfg.Params() { ... }   // allocate the parameter arena
//	sum, err := cfg.Summary(384)
package arch
