// Package shaders owns the GLSL compute kernels of effv2vk and their compiled
// SPIR-V, embedded in the binary.
//
// Each shaders/*.comp file holds one family of operations, forward and
// backward side by side, selected by defines named in `//! kernel` lines (see
// tools/spirv). include/ holds the shared GLSL. `go generate` recompiles the
// kernels and rewrites index_gen.go, the reflected description of every
// kernel: bindings and access, push constants (with a Go mirror struct per
// kernel, e.g. SaxpyPush), local size and specialization constants. The
// generated files are committed, so building needs no shader compiler.
//
// Conventions every kernel follows:
//   - bindings in descriptor set 0, numbered 0..n-1; a storage buffer is
//     declared readonly or writeonly when it is only read or only written
//     (the engine derives barriers from these qualifiers);
//   - texel buffers: samplerBuffer views are RGBA32F (texelFetch returns one
//     vec4 of four consecutive floats); storage texel buffers declare their
//     format;
//   - push constants are 32-bit scalars (uint, int, float) only;
//   - 1D kernels index work with linear_invocation() from include/common.glsl,
//     since the engine folds grids wider than the device limit into 2D or 3D,
//     and check bounds themselves.
package shaders

//go:generate go run ../tools/spirv -dir .
