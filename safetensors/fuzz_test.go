package safetensors

import (
	"bytes"
	"slices"
	"testing"
)

// FuzzParse: any input is either rejected with an error or parsed into
// tensors that are well formed and survive an Encode/Parse round trip.
func FuzzParse(f *testing.F) {
	var good bytes.Buffer
	one, _ := Float32Tensor([]int{2}, []float32{1, 2})
	step, _ := Int64Tensor(nil, []int64{3})
	if err := Encode(&good, map[string]Tensor{"w": one, "n": step}, map[string]string{"k": "v"}); err != nil {
		f.Fatal(err)
	}
	f.Add(good.Bytes())
	f.Add(build(validHeader, make([]byte, 12)))
	f.Add(build(`{"a":{"dtype":"BOOL","shape":[],"data_offsets":[0,1]}}`, []byte{1}))
	f.Add(build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, make([]byte, 8)))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data)
		if err != nil {
			return
		}
		tensors := file.Tensors()
		for name, tensor := range tensors {
			if err := tensor.Check(); err != nil {
				t.Fatalf("parsed tensor %q is malformed: %v", name, err)
			}
		}
		var again bytes.Buffer
		if err := Encode(&again, tensors, file.Metadata); err != nil {
			if _, reserved := tensors[""]; reserved {
				return // an empty name parses but is not written
			}
			t.Fatalf("re-encoding a parsed file failed: %v", err)
		}
		back, err := Parse(again.Bytes())
		if err != nil {
			t.Fatalf("re-parsing failed: %v", err)
		}
		if !slices.Equal(back.Names(), file.Names()) {
			t.Fatalf("names changed: %q -> %q", file.Names(), back.Names())
		}
		for name, tensor := range tensors {
			got, _ := back.Tensor(name)
			if got.DType != tensor.DType || !slices.Equal(got.Shape, tensor.Shape) || !bytes.Equal(got.Data, tensor.Data) {
				t.Fatalf("tensor %q changed in the round trip", name)
			}
		}
	})
}
