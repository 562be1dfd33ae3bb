package net_test

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/safetensors"
)

// writeWeights writes pico's initialization for classes, changed by edit
// (name -> tensor; a nil tensor deletes the entry), as a safetensors file.
func writeWeights(t *testing.T, classes int, edit func(map[string]safetensors.Tensor)) string {
	t.Helper()
	cfg, err := arch.Lookup("efficientnetv2-pico", classes)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := net.StateDict(cfg.Params(), net.InitHost(cfg, 3))
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(sd)
	}
	path := filepath.Join(t.TempDir(), "w.safetensors")
	if err := safetensors.WriteFile(path, sd, nil); err != nil {
		t.Fatal(err)
	}
	return path
}

func pico(t *testing.T, classes int) arch.Config {
	t.Helper()
	cfg, err := arch.Lookup("efficientnetv2-pico", classes)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func floats(t *testing.T, shape []int, v float32) safetensors.Tensor {
	t.Helper()
	n := 1
	for _, s := range shape {
		n *= s
	}
	vals := make([]float32, n)
	for i := range vals {
		vals[i] = v
	}
	tt, err := safetensors.Float32Tensor(shape, vals)
	if err != nil {
		t.Fatal(err)
	}
	return tt
}

// TestReadInitWeightsKeepsTheFile reads a file of the same class count:
// every value is the file's, bit for bit, and nothing is re-initialized.
func TestReadInitWeightsKeepsTheFile(t *testing.T) {
	path := writeWeights(t, 10, nil)
	cfg := pico(t, 10)
	w, err := net.ReadInitWeights(path, cfg, 1)
	if err != nil {
		t.Fatal(err)
	}
	want := net.InitHost(cfg, 3)
	if len(w.Reinitialized) != 0 || w.FileClasses != 10 {
		t.Fatalf("re-initialized %v, file classes %d: want none and 10", w.Reinitialized, w.FileClasses)
	}
	for _, p := range cfg.Params() {
		got := w.Values[p.Name]
		if len(got) != p.Elements() {
			t.Fatalf("%s: %d values, want %d", p.Name, len(got), p.Elements())
		}
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[p.Name][i]) {
				t.Fatalf("%s[%d] = %v, file %v", p.Name, i, got[i], want[p.Name][i])
			}
		}
	}
}

// TestReadInitWeightsNewClassifier reads a 1000-class file for a 10-class
// model: the classifier is torchvision's fresh initialization (seeded), the
// rest the file's.
func TestReadInitWeightsNewClassifier(t *testing.T) {
	path := writeWeights(t, 1000, nil)
	cfg := pico(t, 10)
	w, err := net.ReadInitWeights(path, cfg, 5)
	if err != nil {
		t.Fatal(err)
	}
	if w.FileClasses != 1000 || strings.Join(w.Reinitialized, ",") != "classifier.1.weight,classifier.1.bias" {
		t.Fatalf("file classes %d, re-initialized %v", w.FileClasses, w.Reinitialized)
	}
	fresh, file := net.InitHost(cfg, 5), net.InitHost(pico(t, 1000), 3)
	for _, p := range cfg.Params() {
		want := file[p.Name]
		if strings.HasPrefix(p.Name, "classifier.") {
			want = fresh[p.Name]
		}
		for i, v := range w.Values[p.Name] {
			if math.Float32bits(v) != math.Float32bits(want[i]) {
				t.Fatalf("%s[%d] = %v, want %v", p.Name, i, v, want[i])
			}
		}
	}
}

// TestReadInitWeightsErrors: every other mismatch is a *WeightsMismatchError
// naming the tensors, or a named error.
func TestReadInitWeightsErrors(t *testing.T) {
	cfg := pico(t, 10)
	stem := "features.0.0.weight"
	cases := []struct {
		name       string
		edit       func(map[string]safetensors.Tensor)
		field      func(*net.WeightsMismatchError) []string
		wantInList string
	}{
		{"missing", func(sd map[string]safetensors.Tensor) { delete(sd, "features.1.0.block.0.1.running_var") },
			func(e *net.WeightsMismatchError) []string { return e.Missing }, "features.1.0.block.0.1.running_var"},
		{"unexpected", func(sd map[string]safetensors.Tensor) { sd["features.9.0.weight"] = floats(t, []int{2}, 1) },
			func(e *net.WeightsMismatchError) []string { return e.Unexpected }, "features.9.0.weight"},
		{"mis-shaped", func(sd map[string]safetensors.Tensor) { sd[stem] = floats(t, []int{16, 3, 5, 5}, 0.1) },
			func(e *net.WeightsMismatchError) []string { return e.MisShaped }, stem},
		{"classifier of another head", func(sd map[string]safetensors.Tensor) {
			sd["classifier.1.weight"] = floats(t, []int{10, 99}, 0.1)
		}, func(e *net.WeightsMismatchError) []string { return e.MisShaped }, "classifier.1.weight"},
		{"classifier counts disagree", func(sd map[string]safetensors.Tensor) {
			sd["classifier.1.bias"] = floats(t, []int{7}, 0)
		}, func(e *net.WeightsMismatchError) []string { return e.MisShaped }, "classifier.1.bias"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := writeWeights(t, 10, c.edit)
			_, err := net.ReadInitWeights(path, cfg, 1)
			var mis *net.WeightsMismatchError
			if !errors.As(err, &mis) {
				t.Fatalf("got %v, want a *WeightsMismatchError", err)
			}
			list := strings.Join(c.field(mis), "; ")
			if !strings.Contains(list, c.wantInList) || !strings.Contains(err.Error(), c.wantInList) {
				t.Fatalf("error %q does not list %s where it should (list: %q)", err, c.wantInList, list)
			}
		})
	}
	t.Run("another model", func(t *testing.T) {
		b0, err := arch.Lookup("efficientnetv2-b0", 10)
		if err != nil {
			t.Fatal(err)
		}
		_, err = net.ReadInitWeights(writeWeights(t, 10, nil), b0, 1)
		var mis *net.WeightsMismatchError
		if !errors.As(err, &mis) || len(mis.Missing) == 0 || !strings.Contains(err.Error(), "more)") {
			t.Fatalf("got %v, want a long list of missing tensors", err)
		}
	})
	t.Run("non-finite", func(t *testing.T) {
		path := writeWeights(t, 10, func(sd map[string]safetensors.Tensor) { sd[stem] = floats(t, []int{16, 3, 3, 3}, float32(math.NaN())) })
		_, err := net.ReadInitWeights(path, cfg, 1)
		if !errors.Is(err, net.ErrNonFiniteWeights) || !strings.Contains(err.Error(), stem) {
			t.Fatalf("got %v, want ErrNonFiniteWeights naming %s", err, stem)
		}
	})
	t.Run("not a weights file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "w.safetensors")
		os.WriteFile(path, []byte("not safetensors"), 0o644)
		if _, err := net.ReadInitWeights(path, cfg, 1); !errors.Is(err, net.ErrNotWeightsFile) || !strings.Contains(err.Error(), path) {
			t.Fatalf("got %v, want ErrNotWeightsFile naming %s", err, path)
		}
		missing := filepath.Join(t.TempDir(), "none.safetensors")
		if _, err := net.ReadInitWeights(missing, cfg, 1); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("got %v, want a not-exist error", err)
		}
	})
}

// checkInitFromTorchvision reads torchvision's efficientnet_v2_s state_dict
// (1000 classes, saved by testdata/make_goldens.py) as the --init of a
// 10-class model: the classifier is re-initialized, every other entry (BN
// running statistics and num_batches_tracked included) is the file's.
func checkInitFromTorchvision(t *testing.T, path string) {
	t.Helper()
	cfg, err := arch.Lookup("efficientnetv2-s", 10)
	if err != nil {
		t.Fatal(err)
	}
	w, err := net.ReadInitWeights(path, cfg, 1)
	if err != nil {
		t.Fatalf("--init from torchvision's state_dict: %v", err)
	}
	if w.FileClasses != 1000 || len(w.Reinitialized) != 2 {
		t.Fatalf("file classes %d, re-initialized %v: want 1000 and the classifier", w.FileClasses, w.Reinitialized)
	}
	file, err := safetensors.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range cfg.Params() {
		if strings.HasPrefix(p.Name, "classifier.") || p.DType == arch.Int64 {
			continue
		}
		want, err := file.Float32s(p.Name)
		if err != nil {
			t.Fatal(err)
		}
		for i, v := range w.Values[p.Name] {
			if math.Float32bits(v) != math.Float32bits(want[i]) {
				t.Fatalf("%s[%d] = %v, the file has %v", p.Name, i, v, want[i])
			}
		}
	}
}
