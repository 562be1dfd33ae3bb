package safetensors

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validHeader describes two F32 tensors: a [2] at [0, 8) and b [1] at [8, 12).
const validHeader = `{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`

func TestParseHandBuiltFile(t *testing.T) {
	data := make([]byte, 12)
	binary.LittleEndian.PutUint32(data[8:], 0x40490fdb) // pi as float32
	f, err := Parse(build(validHeader, data))
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Float32s("b")
	if err != nil || len(b) != 1 || b[0] != 3.1415927 {
		t.Errorf("b = %v, %v", b, err)
	}
}

// TestCorruptFilesGiveErrors: every corruption is an error naming the
// problem, never a panic.
func TestCorruptFilesGiveErrors(t *testing.T) {
	twelve := make([]byte, 12)
	huge := make([]byte, 8)
	binary.LittleEndian.PutUint64(huge, 1<<62)
	pastEnd := make([]byte, 8)
	binary.LittleEndian.PutUint64(pastEnd, 100)
	cases := []struct {
		name string
		file []byte
		want string
	}{
		{"empty file", nil, "truncated file: 0 bytes"},
		{"seven bytes", []byte{1, 2, 3, 4, 5, 6, 7}, "truncated file: 7 bytes"},
		{"header length beyond file", append(pastEnd, "{}"...), "header length 100 runs past the end"},
		{"absurd header length", append(huge, "{}"...), "exceeds the 100000000-byte limit"},
		{"truncated data", build(validHeader, twelve[:10]), `tensor "b" ends at byte 12 of a 10-byte data section`},
		{"trailing data", build(validHeader, make([]byte, 16)), "4 bytes after the last tensor"},
		{"empty header", build("", nil), "must start with '{'"},
		{"not an object", build(`[1,2]`, nil), "must start with '{'"},
		{"bad JSON", build(`{"a":{"dtype":"F32",`, twelve), "bad header"},
		{"cut JSON", build(`{"a":`, nil), "bad header"},
		{"unclosed object", build(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[0,0]}`, nil), "not closed"},
		{"junk after JSON", build(`{} x`, nil), "unexpected content after the JSON object"},
		{"second object", build(`{}{}`, nil), "unexpected content after the JSON object"},
		{"entry not an object", build(`{"a":5}`, nil), `tensor "a"`},
		{"missing dtype", build(`{"a":{"shape":[1],"data_offsets":[0,4]}}`, twelve[:4]), `"a" has no dtype`},
		{"missing shape", build(`{"a":{"dtype":"F32","data_offsets":[0,4]}}`, twelve[:4]), `"a" has no shape`},
		{"missing offsets", build(`{"a":{"dtype":"F32","shape":[1]}}`, twelve[:4]), "data_offsets must be [begin, end]"},
		{"three offsets", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}`, twelve[:4]), "data_offsets must be [begin, end]"},
		{"unknown dtype", build(`{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}`, twelve[:1]), `unsupported dtype "F8_E4M3"`},
		{"negative dimension", build(`{"a":{"dtype":"U8","shape":[-1],"data_offsets":[0,0]}}`, nil), "invalid dimension"},
		{"fractional dimension", build(`{"a":{"dtype":"U8","shape":[1.5],"data_offsets":[0,1]}}`, twelve[:1]), `tensor "a"`},
		{"huge shape", build(`{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}`, twelve[:4]), "too large"},
		{"offsets decreasing", build(`{"a":{"dtype":"U8","shape":[0],"data_offsets":[4,0]}}`, twelve[:4]), "not an increasing pair"},
		{"negative offset", build(`{"a":{"dtype":"U8","shape":[1],"data_offsets":[-1,0]}}`, twelve[:4]), "not an increasing pair"},
		{"size mismatch", build(`{"a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,20]}}`, make([]byte, 20)), "needs 24 bytes but data_offsets [0, 20] hold 20"},
		{"dtype mismatch", build(`{"a":{"dtype":"I64","shape":[2],"data_offsets":[0,8]}}`, twelve[:8]), "needs 16 bytes"},
		{"offsets out of range", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, twelve[:8]), "ends at byte 12 of a 8-byte"},
		{"overlap", build(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, twelve[:8]), "overlaps"},
		{"same range twice", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, twelve[:4]), "overlaps"},
		{"gap", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}`, twelve), "data bytes [4, 8) belong to no tensor"},
		{"duplicate name", build(`{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}`, twelve[:8]), `"a" appears twice`},
		{"metadata not strings", build(`{"__metadata__":{"epoch":3}}`, nil), "must map strings to strings"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f, err := Parse(c.file)
			if err == nil {
				t.Fatalf("accepted: %v", f.Names())
			}
			if !strings.HasPrefix(err.Error(), "safetensors: ") || !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not say %q", err, c.want)
			}
		})
	}
}

func TestReadNamesThePath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "broken.safetensors")
	if err := os.WriteFile(path, []byte{1, 2, 3}, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Read(path); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("got %v", err)
	}
	if _, err := Read(filepath.Join(t.TempDir(), "missing.safetensors")); err == nil || !strings.Contains(err.Error(), "missing.safetensors") {
		t.Errorf("missing file: %v", err)
	}
}

func TestZeroLengthTensorsMayShareAnOffset(t *testing.T) {
	header := `{"a":{"dtype":"F32","shape":[0],"data_offsets":[0,0]},"b":{"dtype":"U8","shape":[0,5],"data_offsets":[0,0]},"c":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}}`
	f, err := Parse(build(header, []byte{7}))
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := f.Int64s("c"); len(v) != 1 || v[0] != 7 {
		t.Errorf("c = %v", v)
	}
}
