package safetensors

import (
	"encoding/binary"
	"testing"
)

// build assembles a file from a header string and a data section by hand.
func build(header string, data []byte) []byte {
	out := make([]byte, 8, 8+len(header)+len(data))
	binary.LittleEndian.PutUint64(out, uint64(len(header)))
	out = append(out, header...)
	return append(out, data...)
}

// sampleTensors covers every dtype, a 0-d scalar and an empty tensor.
func sampleTensors(t *testing.T) map[string]Tensor {
	t.Helper()
	weights, err := Float32Tensor([]int{2, 3}, []float32{0.5, -1.25, 3, 1e-3, 65504, -1})
	if err != nil {
		t.Fatal(err)
	}
	steps, err := Int64Tensor(nil, []int64{-9_000_000_000})
	if err != nil {
		t.Fatal(err)
	}
	empty, err := Float32Tensor([]int{0, 4}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]Tensor{
		"features.0.0.weight":                weights,
		"features.0.1.num_batches_tracked":   steps,
		"empty":                              empty,
		"half":                               {DType: F16, Shape: []int{2}, Data: []byte{0x00, 0x3c, 0x00, 0xc0}},
		"brain":                              {DType: BF16, Shape: []int{1}, Data: []byte{0x80, 0x3f}},
		"double":                             {DType: F64, Shape: []int{1}, Data: []byte{0, 0, 0, 0, 0, 0, 0xf0, 0x3f}},
		"labels":                             {DType: I32, Shape: []int{2}, Data: []byte{0xff, 0xff, 0xff, 0xff, 7, 0, 0, 0}},
		"pixels":                             {DType: U8, Shape: []int{3}, Data: []byte{0, 128, 255}},
		"mask":                               {DType: BOOL, Shape: []int{2, 1}, Data: []byte{1, 0}},
		"name with \"quotes\" and unicode é": {DType: U8, Shape: []int{}, Data: []byte{9}},
	}
}
