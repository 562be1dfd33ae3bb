package arch

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"sync"
	"testing"
)

// pythonWithTorch is the interpreter that has torch and torchvision (the
// `python3` on PATH may not).
const pythonWithTorch = "/usr/bin/python3"

// pyImageSize is an odd size, so every stride-2 layer rounds.
const pyImageSize = 67

// torchvisionTable is one model's reference from testdata/torchvision_reference.py.
type torchvisionTable struct {
	StateDict    [][3]json.RawMessage `json:"state_dict"` // [name, shape, dtype]
	Params       int                  `json:"params"`
	StageShapes  [][]int              `json:"stage_shapes"`
	MultiplyAdds int64                `json:"multiply_adds"`
}

var (
	referenceOnce sync.Once
	torchMissing  error // why torch cannot be imported, nil when it can
	referenceData map[string]json.RawMessage
	referenceErr  error
)

// torchvisionReference runs the reference script once per test binary. It
// skips the test when torch is missing, unless CI=true, where it fails.
func torchvisionReference(t *testing.T) map[string]json.RawMessage {
	t.Helper()
	referenceOnce.Do(func() {
		if torchMissing = exec.Command(pythonWithTorch, "-c", "import torch, torchvision").Run(); torchMissing != nil {
			return
		}
		cmd := exec.Command(pythonWithTorch, "testdata/torchvision_reference.py", fmt.Sprint(pyImageSize))
		cmd.Stderr = os.Stderr
		out, err := cmd.Output()
		if err != nil {
			referenceErr = fmt.Errorf("torchvision_reference.py: %w", err)
			return
		}
		referenceErr = json.Unmarshal(out, &referenceData)
	})
	if err := torchMissing; err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s cannot import torch and torchvision: %v", pythonWithTorch, err)
		}
		t.Skipf("%s cannot import torch and torchvision (%v); set CI=true to make this a failure", pythonWithTorch, err)
	}
	if referenceErr != nil {
		t.Fatal(referenceErr)
	}
	return referenceData
}

func referenceTable(t *testing.T, model string) torchvisionTable {
	t.Helper()
	raw, ok := torchvisionReference(t)[model]
	if !ok {
		t.Fatalf("reference output has no %s", model)
	}
	var table torchvisionTable
	if err := json.Unmarshal(raw, &table); err != nil {
		t.Fatalf("%s: %v", model, err)
	}
	return table
}

// TestParamsMatchTorchvision compares every state_dict key, in order, with
// its shape and dtype, for S, M, L and a torchvision EfficientNet built to
// pico's table.
func TestParamsMatchTorchvision(t *testing.T) {
	classes := map[string]int{S: 1000, M: 1000, L: 1000, Pico: 10}
	for _, name := range []string{S, M, L, Pico} {
		t.Run(name, func(t *testing.T) {
			ref := referenceTable(t, name)
			cfg, err := Lookup(name, classes[name])
			if err != nil {
				t.Fatal(err)
			}
			ours := cfg.Params()
			if len(ours) != len(ref.StateDict) {
				t.Errorf("%d state_dict entries, torchvision has %d", len(ours), len(ref.StateDict))
			}
			for i := range min(len(ours), len(ref.StateDict)) {
				var (
					name, dtype string
					shape       []int
				)
				row := ref.StateDict[i]
				if json.Unmarshal(row[0], &name) != nil || json.Unmarshal(row[1], &shape) != nil || json.Unmarshal(row[2], &dtype) != nil {
					t.Fatalf("entry %d: malformed reference row %s", i, row)
				}
				p := ours[i]
				if p.Name != name || !slices.Equal(p.Shape, shape) || p.DType.String() != dtype {
					t.Fatalf("entry %d: ours %s %v %s, torchvision %s %v %s", i, p.Name, p.Shape, p.DType, name, shape, dtype)
				}
			}
			if got := cfg.ParamCount(); got != ref.Params {
				t.Errorf("ParamCount = %d, torchvision %d", got, ref.Params)
			}
		})
	}
}

// TestPicoShapesAndCostsMatchTorchvision checks the spatial arithmetic and
// the multiply-add count against a torchvision forward pass with hooks.
func TestPicoShapesAndCostsMatchTorchvision(t *testing.T) {
	ref := referenceTable(t, Pico)
	cfg, err := Lookup(Pico, 10)
	if err != nil {
		t.Fatal(err)
	}
	sum, err := cfg.Summary(pyImageSize)
	if err != nil {
		t.Fatal(err)
	}
	features := sum.Rows[:len(sum.Rows)-1] // the classifier row is not a features stage
	if len(features) != len(ref.StageShapes) {
		t.Fatalf("%d feature rows, torchvision has %d stages", len(features), len(ref.StageShapes))
	}
	for i, row := range features {
		if !slices.Equal(row.OutputShape, ref.StageShapes[i]) {
			t.Errorf("features.%d output %v, torchvision %v", i, row.OutputShape, ref.StageShapes[i])
		}
	}
	if sum.MultiplyAdds != ref.MultiplyAdds {
		t.Errorf("multiply-adds at %d: %d, torchvision hooks count %d", pyImageSize, sum.MultiplyAdds, ref.MultiplyAdds)
	}
}
