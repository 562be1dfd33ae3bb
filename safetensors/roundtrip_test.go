package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func TestRoundTripThroughAFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "model.safetensors")
	in := sampleTensors(t)
	meta := map[string]string{"format": "pt", "step": "12"}
	if err := WriteFile(path, in, meta); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Len() != len(in) || f.Metadata["format"] != "pt" || f.Metadata["step"] != "12" || len(f.Metadata) != 2 {
		t.Fatalf("read back %d tensors, metadata %v", f.Len(), f.Metadata)
	}
	names := f.Names()
	if !slices.IsSorted(names) || len(names) != len(in) {
		t.Errorf("Names not sorted or incomplete: %q", names)
	}
	for name, want := range in {
		got, err := f.Tensor(name)
		if err != nil {
			t.Fatal(err)
		}
		if got.DType != want.DType || !slices.Equal(got.Shape, want.Shape) || !bytes.Equal(got.Data, want.Data) {
			t.Errorf("%s: got %v %v %x, want %v %v %x", name, got.DType, got.Shape, got.Data, want.DType, want.Shape, want.Data)
		}
	}
	steps, err := f.Int64s("features.0.1.num_batches_tracked")
	if err != nil || len(steps) != 1 || steps[0] != -9_000_000_000 {
		t.Errorf("0-d int64: %v %v", steps, err)
	}
	if tensor, _ := f.Tensor("features.0.1.num_batches_tracked"); tensor.Shape == nil || len(tensor.Shape) != 0 || tensor.Elements() != 1 {
		t.Errorf("0-d shape read back as %#v", tensor.Shape)
	}
	weights, err := f.Float32s("features.0.0.weight")
	if err != nil || !slices.Equal(weights, []float32{0.5, -1.25, 3, 1e-3, 65504, -1}) {
		t.Errorf("float32 values: %v %v", weights, err)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
}

// TestLayout checks the bytes Encode writes: header padded with spaces to 8,
// scalars written as shape [], larger types first so every tensor is aligned
// to its element size, data tiled without gaps.
func TestLayout(t *testing.T) {
	var buf bytes.Buffer
	if err := Encode(&buf, sampleTensors(t), nil); err != nil {
		t.Fatal(err)
	}
	data := buf.Bytes()
	n := binary.LittleEndian.Uint64(data)
	if n%8 != 0 || data[8+n-1] != ' ' && data[8+n-1] != '}' {
		t.Errorf("header length %d is not a multiple of 8 or not space-padded", n)
	}
	header := data[8 : 8+n]
	if bytes.Contains(header, []byte("null")) || !bytes.Contains(header, []byte(`"shape":[]`)) || bytes.Contains(header, []byte(metadataKey)) {
		t.Errorf("header %s", header)
	}
	var entries map[string]struct {
		DType       DType    `json:"dtype"`
		DataOffsets [2]int64 `json:"data_offsets"`
	}
	if err := json.Unmarshal(header, &entries); err != nil {
		t.Fatal(err)
	}
	type span struct {
		begin, size int64
		name        string
	}
	var spans []span
	for name, e := range entries {
		size := int64(e.DType.Size())
		if e.DataOffsets[0]%size != 0 {
			t.Errorf("%s (%s) starts at %d, not aligned", name, e.DType, e.DataOffsets[0])
		}
		spans = append(spans, span{e.DataOffsets[0], size, name})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.begin, b.begin) })
	for i := 1; i < len(spans); i++ {
		if spans[i].size > spans[i-1].size && spans[i].begin > spans[i-1].begin {
			t.Errorf("%s (%d-byte elements) comes after %s (%d-byte)", spans[i].name, spans[i].size, spans[i-1].name, spans[i-1].size)
		}
	}
	if _, err := Parse(data); err != nil {
		t.Fatal(err)
	}
}

func TestWriteFileReplacesAndCleansUp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.safetensors")
	one, _ := Float32Tensor([]int{1}, []float32{1})
	two, _ := Float32Tensor([]int{2}, []float32{2, 2})
	if err := WriteFile(path, map[string]Tensor{"a": one}, nil); err != nil {
		t.Fatal(err)
	}
	if err := WriteFile(path, map[string]Tensor{"a": two}, nil); err != nil {
		t.Fatal(err)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Float32s("a"); !slices.Equal(v, []float32{2, 2}) {
		t.Errorf("second write did not replace the first: %v", v)
	}
	// A bad tensor fails before anything replaces the good file.
	bad := Tensor{DType: F32, Shape: []int{3}, Data: make([]byte, 8)}
	err = WriteFile(path, map[string]Tensor{"bad": bad}, nil)
	if err == nil || !strings.Contains(err.Error(), `"bad"`) || !strings.Contains(err.Error(), "needs 12 bytes") {
		t.Errorf("bad tensor: %v", err)
	}
	if f, err := Read(path); err != nil || f.Len() != 1 {
		t.Errorf("the failed write damaged the old file: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if err := WriteFile(filepath.Join(dir, "missing", "x.safetensors"), nil, nil); err == nil || !strings.Contains(err.Error(), "create temporary file for") {
		t.Errorf("writing into a missing directory: %v", err)
	}
	if info, err := os.Stat(path); err != nil || info.Mode().Perm() != 0o644 {
		t.Errorf("file mode %v %v", info.Mode(), err)
	}
}

func TestWriterRejectsBadInput(t *testing.T) {
	ok, _ := Float32Tensor([]int{1}, []float32{1})
	cases := map[string]map[string]Tensor{
		"reserved":         {metadataKey: ok},
		"empty":            {"": ok},
		"unsupported":      {"x": {DType: "F8", Shape: []int{1}, Data: []byte{1}}},
		"negative":         {"x": {DType: U8, Shape: []int{-1}, Data: nil}},
		"needs 4 bytes":    {"x": {DType: F32, Shape: []int{1}, Data: []byte{1}}},
		"needs 8 bytes, d": {"x": {DType: I64, Shape: nil, Data: nil}},
	}
	for want, tensors := range cases {
		err := Encode(&bytes.Buffer{}, tensors, nil)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v", want, err)
		}
	}
	if _, err := Float32Tensor([]int{2, 2}, []float32{1}); err == nil || !strings.Contains(err.Error(), "1 float32 values for shape [2 2]") {
		t.Errorf("Float32Tensor with 1 value for shape [2 2]: %v", err)
	}
	if _, err := Int64Tensor([]int{}, []int64{1, 2}); err == nil || !strings.Contains(err.Error(), "2 int64 values for shape []") {
		t.Errorf("Int64Tensor with 2 values for a scalar: %v", err)
	}
}

func TestConversions(t *testing.T) {
	half := []uint16{0x3c00, 0xc000, 0x7bff, 0x0001, 0x8000, 0x7c00, 0xfc00, 0x3555}
	data := make([]byte, 2*len(half))
	for i, h := range half {
		binary.LittleEndian.PutUint16(data[2*i:], h)
	}
	got, err := Tensor{DType: F16, Shape: []int{len(half)}, Data: data}.Float32s()
	if err != nil {
		t.Fatal(err)
	}
	want := []float32{1, -2, 65504, 1.0 / (1 << 24), float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), 0.33325195}
	for i := range want {
		if got[i] != want[i] || math.Signbit(float64(got[i])) != math.Signbit(float64(want[i])) {
			t.Errorf("f16 %#04x -> %g, want %g", half[i], got[i], want[i])
		}
	}
	nan, _ := Tensor{DType: F16, Shape: []int{1}, Data: []byte{0x00, 0x7e}}.Float32s()
	if !math.IsNaN(float64(nan[0])) {
		t.Errorf("f16 NaN -> %g", nan[0])
	}
	bf, _ := Tensor{DType: BF16, Shape: []int{2}, Data: []byte{0x80, 0x3f, 0x60, 0xc0}}.Float32s()
	if !slices.Equal(bf, []float32{1, -3.5}) {
		t.Errorf("bf16 -> %v", bf)
	}
	ints, _ := Tensor{DType: I32, Shape: []int{2}, Data: []byte{0xfe, 0xff, 0xff, 0xff, 5, 0, 0, 0}}.Int64s()
	if !slices.Equal(ints, []int64{-2, 5}) {
		t.Errorf("i32 -> %v", ints)
	}
	flags, _ := Tensor{DType: BOOL, Shape: []int{3}, Data: []byte{0, 1, 2}}.Int64s()
	if !slices.Equal(flags, []int64{0, 1, 1}) {
		t.Errorf("bool -> %v", flags)
	}
	if _, err := (Tensor{DType: I64, Shape: []int{}, Data: make([]byte, 8)}).Float32s(); err == nil || !strings.Contains(err.Error(), "Int64s") {
		t.Errorf("Float32s of I64: %v", err)
	}
	if _, err := (Tensor{DType: F32, Shape: []int{}, Data: make([]byte, 4)}).Int64s(); err == nil || !strings.Contains(err.Error(), "Float32s") {
		t.Errorf("Int64s of F32: %v", err)
	}
	if _, err := (Tensor{DType: F32, Shape: []int{2}, Data: make([]byte, 4)}).Float32s(); err == nil || !strings.Contains(err.Error(), "F32 shape [2] needs 8 bytes, data has 4") {
		t.Errorf("Float32s past the data: %v", err)
	}
}

func TestMissingTensor(t *testing.T) {
	f, err := Parse(build("{}      ", nil))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Tensor("w"); err == nil || !strings.Contains(err.Error(), `"w"`) {
		t.Errorf("missing tensor: %v", err)
	}
	if _, err := f.Float32s("w"); err == nil || !strings.Contains(err.Error(), `no tensor "w"`) {
		t.Errorf("Float32s of a missing tensor: %v", err)
	}
	if f.Len() != 0 || len(f.Names()) != 0 || f.Metadata == nil {
		t.Errorf("empty file: %d tensors, metadata %v", f.Len(), f.Metadata)
	}
}
