// Package safetensors reads and writes the safetensors tensor file format
// (https://github.com/huggingface/safetensors), the format effv2vk uses for
// checkpoints and for exchanging weights with PyTorch.
//
// A file is an 8-byte little-endian header length N, N bytes of JSON header
// and the data section:
//
//	{"__metadata__": {"key": "value"},
//	 "name": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, ...}
//
// Offsets are relative to the start of the data section; tensors are stored
// row-major, little-endian. The package owns the format only: the reader
// validates everything (header length, JSON, dtypes, shapes, offsets in range,
// no overlaps, no gaps, byte sizes that match the shapes) and returns errors,
// never panics; the writer lays tensors out as the reference implementation
// does (8-byte types first, then by name, header padded with spaces to a
// multiple of 8) and replaces files atomically.
//
// Supported dtypes: F32, F64, F16, BF16, I64, I32, U8, BOOL. Zero-dimensional
// tensors (shape []) hold one element.
package safetensors
