// Command spirv is the `go generate` step of package shaders: it compiles every
// shaders/*.comp file (one compute kernel per declared variant) with glslc,
// validates each module with spirv-val, writes the optimized SPIR-V to
// shaders/spv/<kernel>.spv and a generated Go index (shaders/index_gen.go) that
// describes each kernel: its bindings and their access, its push-constant
// block (with a Go mirror struct), its local size and its specialization
// constants.
//
// Everything in the index is read from the SPIR-V itself (reflection of an
// unoptimized build, which keeps member names), so nothing is typed twice.
//
// A .comp file declares its kernels in lines of the form
//
//	//! kernel NAME [DEFINE[=VALUE] ...]
//
// Each line yields one kernel compiled with the given -D defines. A file with
// no such line yields one kernel named after the file. Files are written only
// when their content changes, and any compiler or validator error fails the
// run.
//
// Usage (from package shaders): go run ../tools/spirv [-dir .]
package main
