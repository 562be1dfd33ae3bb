package safetensors

import (
	"encoding/json"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
)

// pythonWithNumpy is the interpreter that has numpy (the `python3` on PATH
// may not).
const pythonWithNumpy = "/usr/bin/python3"

// requireNumpy skips when numpy is missing, unless CI=true, where it fails.
func requireNumpy(t *testing.T) {
	t.Helper()
	if err := exec.Command(pythonWithNumpy, "-c", "import numpy").Run(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s cannot import numpy: %v", pythonWithNumpy, err)
		}
		t.Skipf("%s cannot import numpy (%v); set CI=true to make this a failure", pythonWithNumpy, err)
	}
}

// TestReadsPythonWrittenFile reads a file that testdata/interop.py writes
// with struct, json and numpy (header in reverse name order, metadata first).
func TestReadsPythonWrittenFile(t *testing.T) {
	requireNumpy(t)
	path := filepath.Join(t.TempDir(), "python.safetensors")
	if out, err := exec.Command(pythonWithNumpy, "testdata/interop.py", "write", path).CombinedOutput(); err != nil {
		t.Fatalf("interop.py write: %v\n%s", err, out)
	}
	f, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Metadata["format"] != "pt" || f.Metadata["writer"] != "interop.py" {
		t.Errorf("metadata %v", f.Metadata)
	}
	floats := map[string][]float32{
		"weights": {0.5, -1.25, 3, 1e-3, 65504, float32(math.Copysign(0, -1))},
		"double":  {float32(1.0 / 3.0), -2.5},
		"half":    {1, -2, 65504, 1.0 / (1 << 24)},
		"brain":   {1, -3.5},
		"empty":   {},
	}
	for name, want := range floats {
		got, err := f.Float32s(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s = %v (%v), want %v", name, got, err, want)
		}
	}
	ints := map[string][]int64{"steps": {42}, "labels": {-7, 0, math.MaxInt32}, "pixels": {0, 1, 254, 255}, "mask": {1, 0, 1}}
	for name, want := range ints {
		got, err := f.Int64s(name)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("%s = %v (%v), want %v", name, got, err, want)
		}
	}
	shapes := map[string][]int{"weights": {2, 3}, "steps": {}, "pixels": {2, 2}, "empty": {0, 4}}
	for name, want := range shapes {
		if tensor, _ := f.Tensor(name); !slices.Equal(tensor.Shape, want) {
			t.Errorf("%s shape %v, want %v", name, tensor.Shape, want)
		}
	}
	if f.Len() != 9 {
		t.Errorf("%d tensors, want 9", f.Len())
	}
}

// TestPythonReadsOurFile has testdata/interop.py parse a file we wrote and
// checks what it saw.
func TestPythonReadsOurFile(t *testing.T) {
	requireNumpy(t)
	path := filepath.Join(t.TempDir(), "go.safetensors")
	in := sampleTensors(t)
	if err := WriteFile(path, in, map[string]string{"epoch": "3"}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pythonWithNumpy, "testdata/interop.py", "read", path).Output()
	if err != nil {
		t.Fatalf("interop.py read: %v", err)
	}
	var seen map[string]json.RawMessage
	if err := json.Unmarshal(out, &seen); err != nil {
		t.Fatal(err)
	}
	var meta map[string]string
	if json.Unmarshal(seen[metadataKey], &meta) != nil || meta["epoch"] != "3" {
		t.Errorf("python saw metadata %s", seen[metadataKey])
	}
	delete(seen, metadataKey)
	if len(seen) != len(in) {
		t.Errorf("python saw %d tensors, we wrote %d", len(seen), len(in))
	}
	for name, tensor := range in {
		var got struct {
			DType  DType     `json:"dtype"`
			Shape  []int     `json:"shape"`
			Values []float64 `json:"-"`
			Raw    []any     `json:"values"`
		}
		if err := json.Unmarshal(seen[name], &got); err != nil {
			t.Fatalf("%s: %v (%s)", name, err, seen[name])
		}
		var want []float64
		integer := tensor.DType == BOOL || tensor.DType == U8 || tensor.DType == I32 || tensor.DType == I64
		if integer {
			v, _ := tensor.Int64s()
			for _, x := range v {
				want = append(want, float64(x))
			}
		} else {
			v, _ := tensor.Float32s()
			for _, x := range v {
				want = append(want, float64(x))
			}
		}
		for _, r := range got.Raw {
			switch x := r.(type) {
			case bool:
				got.Values = append(got.Values, map[bool]float64{false: 0, true: 1}[x])
			case float64:
				if !integer {
					x = float64(float32(x)) // F64 values are compared after Float32s
				}
				got.Values = append(got.Values, x)
			}
		}
		wantShape := tensor.Shape
		if wantShape == nil {
			wantShape = []int{}
		}
		if got.DType != tensor.DType || !slices.Equal(got.Shape, wantShape) || !slices.Equal(got.Values, want) {
			t.Errorf("%s: python saw %s %v %v, we wrote %s %v %v", name, got.DType, got.Shape, got.Values, tensor.DType, wantShape, want)
		}
	}
}
