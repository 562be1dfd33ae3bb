package net

import (
	"fmt"
	"sort"
	"strings"

	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/safetensors"
)

// StateDict converts named values (as from Store.Snapshot) to safetensors
// tensors with torchvision's dtypes: float32, and int64 0-d for
// num_batches_tracked.
func StateDict(table []arch.Param, values map[string][]float32) (map[string]safetensors.Tensor, error) {
	out := make(map[string]safetensors.Tensor, len(table))
	for _, p := range table {
		v, ok := values[p.Name]
		if !ok {
			return nil, fmt.Errorf("net: no value for %s", p.Name)
		}
		var t safetensors.Tensor
		var err error
		if p.DType == arch.Int64 {
			t, err = safetensors.Int64Tensor(p.Shape, []int64{int64(v[0])})
		} else {
			t, err = safetensors.Float32Tensor(p.Shape, v)
		}
		if err != nil {
			return nil, fmt.Errorf("net: %s: %w", p.Name, err)
		}
		out[p.Name] = t
	}
	return out, nil
}

// Export writes the store's parameters and buffers to path as safetensors
// with torchvision's state_dict names, atomically.
func (st *Store) Export(path string, cfg arch.Config, metadata map[string]string) error {
	values, err := st.Snapshot()
	if err != nil {
		return err
	}
	tensors, err := StateDict(cfg.Params(), values)
	if err != nil {
		return err
	}
	return safetensors.WriteFile(path, tensors, metadata)
}

// ReadStateDict reads a safetensors file and checks it against the model's
// table: every missing, unexpected and mis-shaped key is listed in the
// error (a *WeightsMismatchError). Float tensors may be F32, F64, F16 or
// BF16; num_batches_tracked any integer type.
func ReadStateDict(path string, cfg arch.Config) (map[string][]float32, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return nil, fmt.Errorf("net: weights %s: %w", path, err)
	}
	mis := &WeightsMismatchError{Path: path, Model: cfg.Name, Classes: cfg.Classes, Hint: "check --model and --classes match the file"}
	values, err := matchStateDict(f, cfg, mis, func(arch.Param, safetensors.Tensor) bool { return false })
	if err != nil {
		return nil, err
	}
	if mis.any() {
		return nil, mis
	}
	return values, nil
}

// matchStateDict reads every entry of cfg's table from f by name, noting in
// mis each missing, unexpected and mis-shaped one. A mis-shaped entry that
// tolerate accepts is left out of the values without a note.
func matchStateDict(f *safetensors.File, cfg arch.Config, mis *WeightsMismatchError, tolerate func(arch.Param, safetensors.Tensor) bool) (map[string][]float32, error) {
	table := cfg.Params()
	want := map[string]bool{}
	for _, p := range table {
		want[p.Name] = true
	}
	for _, name := range f.Names() {
		if !want[name] {
			mis.Unexpected = append(mis.Unexpected, name)
		}
	}
	values := map[string][]float32{}
	for _, p := range table {
		t, err := f.Tensor(p.Name)
		if err != nil {
			mis.Missing = append(mis.Missing, p.Name)
			continue
		}
		if !sameShape(t.Shape, p.Shape) {
			if !tolerate(p, t) {
				mis.MisShaped = append(mis.MisShaped, fmt.Sprintf("%s: file %v, model %v", p.Name, t.Shape, p.Shape))
			}
			continue
		}
		if p.DType == arch.Int64 {
			iv, err := t.Int64s()
			if err != nil {
				return nil, fmt.Errorf("net: weights %s: %s: %w", mis.Path, p.Name, err)
			}
			values[p.Name] = []float32{float32(iv[0])}
			continue
		}
		fv, err := t.Float32s()
		if err != nil {
			return nil, fmt.Errorf("net: weights %s: %s: %w", mis.Path, p.Name, err)
		}
		values[p.Name] = fv
	}
	return values, nil
}

// WeightsMismatchError lists what keeps a weights file from fitting a
// model: state_dict names the model needs and the file lacks, names the
// file holds and the model does not have, and tensors of another shape.
type WeightsMismatchError struct {
	Path                           string
	Model                          string
	Classes                        int
	Missing, Unexpected, MisShaped []string
	// Hint says how to get out (which flags to check).
	Hint string
}

func (e *WeightsMismatchError) any() bool {
	return len(e.Missing)+len(e.Unexpected)+len(e.MisShaped) > 0
}

// Error lists up to ten names of each kind.
func (e *WeightsMismatchError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "net: weights %s do not fit %s with %d classes:", e.Path, e.Model, e.Classes)
	list := func(what string, names []string) {
		if len(names) == 0 {
			return
		}
		names = append([]string(nil), names...)
		sort.Strings(names)
		shown := names
		if len(shown) > 10 {
			shown = shown[:10]
		}
		fmt.Fprintf(&b, "\n  %d %s: %s", len(names), what, strings.Join(shown, ", "))
		if len(names) > len(shown) {
			fmt.Fprintf(&b, ", ... (%d more)", len(names)-len(shown))
		}
	}
	list("missing", e.Missing)
	list("unexpected", e.Unexpected)
	list("mis-shaped", e.MisShaped)
	if e.Hint != "" {
		b.WriteString("\n  " + e.Hint)
	}
	return b.String()
}

// Import loads a safetensors state_dict into the store (see ReadStateDict).
// Nothing is uploaded unless the whole file fits.
func (st *Store) Import(path string, cfg arch.Config) error {
	values, err := ReadStateDict(path, cfg)
	if err != nil {
		return err
	}
	return st.Load(values)
}

func sameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
