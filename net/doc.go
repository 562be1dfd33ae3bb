// Package net owns the EfficientNetV2 network on the device: the parameter
// store (all trainable parameters in one flat tensor, gradients in another
// with the same layout, batch-norm statistics in a third), the layers and
// blocks with their forward and backward recorded through package ops, the
// whole training step recorded once per (model, batch, image size), and
// weights in safetensors with torchvision's names (ReadStateDict for an
// exact fit, ReadInitWeights for a fine-tuning start whose classifier may
// have another class count). GraphConfig.Frozen records a step whose first
// feature modules are fixed (freeze.go).
//
// The architecture itself (stage tables, blocks, parameter names and
// shapes) is data in net/arch.
package net
