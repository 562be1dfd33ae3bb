// Package ops owns the typed Go wrappers of the shader kernels: one function
// per operation (Conv2DForward, Conv2DBackwardData, ...) that checks the
// tensors' shapes and records the dispatch into an engine.Sequence.
//
// Conventions:
//   - layout NCHW, float32; shapes are read from the tensors;
//   - argument order as in llm.c: outputs, inputs, weights, then settings;
//     backward: input gradients, weight gradients, output gradient, saved
//     tensors, settings;
//   - every output, gradients included, is overwritten (never accumulated);
//     where a tensor receives gradient from two paths the caller adds them;
//   - a shape error is recorded in the sequence (engine.Sequence.Fail) and
//     returned by Finish, naming the operation and the shapes;
//   - an activation larger than one dispatch may bind
//     (engine.Device.MaxBindingBytes) splits the operation along the batch
//     (batch_split.go): one dispatch per slice of whole samples. Per-sample
//     operations (convolutions' and linear layers' forward and input
//     gradient, batch-norm forward, elementwise, pooling, channel scale,
//     drop path, dropout, input preparation) give bitwise the unsplit
//     result; operations that sum over the batch (weight and bias
//     gradients, batch-norm statistics and backward) add per-slice partials
//     in slice order, deterministic but equal to the unsplit kernels only
//     to float32 rounding. The loss ([N,classes]) is not split, nor is a
//     single weight larger than the limit. One sample beyond the
//     limit is an error that names the tensor, the limit and the way out (a
//     smaller image size).
//
// Each kernel is tested in ops/*_test.go against its float64 reference in
// package ops/ref, and timed by `effv2vk bench ops` through the cases
// registered in bench_*.go.
//
// Operations with several correct ways to record them (pointwise GEMMs,
// linear forward, convolution weight gradients) are autotuned: their
// variants are listed in tune_*.go tables and engine.Device.Tune picks one
// per shape and device (tune.go explains how to add a variant).
package ops
