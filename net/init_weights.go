package net

import (
	"errors"
	"fmt"
	"io/fs"
	"math"

	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/safetensors"
)

// InitWeights is the starting point of a fine-tuning run, read from
// torchvision-named weights (`effv2vk export`, or torchvision's pretrained
// state_dict saved as safetensors).
type InitWeights struct {
	// Values holds every entry of the model's table: the file's, except
	// the classifier when it was re-initialized.
	Values map[string][]float32
	// FileClasses is the class count of the file's classifier.
	FileClasses int
	// Reinitialized lists the entries freshly initialized because the
	// file's class count differs from the model's (the classifier).
	Reinitialized []string
}

// ErrNotWeightsFile is wrapped by ReadInitWeights when the file is there
// but is no safetensors file.
var ErrNotWeightsFile = errors.New("net: --init: not a safetensors weights file")

// ErrNonFiniteWeights is wrapped by ReadInitWeights when a tensor holds NaN
// or infinity.
var ErrNonFiniteWeights = errors.New("net: weights hold NaN or infinite values")

// ReadInitWeights reads a fine-tuning start for cfg from path. Every entry
// is matched by name and shape (running statistics and num_batches_tracked
// included). A classifier for another class count (weight [K, head] and
// bias [K]) is replaced by torchvision's initialization from seed, and
// Reinitialized says so. Anything else missing, unexpected or mis-shaped is
// a *WeightsMismatchError listing them all.
func ReadInitWeights(path string, cfg arch.Config, seed uint64) (*InitWeights, error) {
	f, err := safetensors.Read(path)
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pathErr):
		return nil, fmt.Errorf("net: --init %s: %w", path, err)
	case err != nil:
		return nil, fmt.Errorf("%w: %s: %v", ErrNotWeightsFile, path, err)
	}
	mis := &WeightsMismatchError{Path: path, Model: cfg.Name, Classes: cfg.Classes,
		Hint: "--init takes torchvision-named weights of the same --model (`effv2vk export`, or torchvision's state_dict saved as safetensors); only the classifier may differ, in its class count"}
	fileClasses := map[string]int{} // classifier entry -> the file's class count
	tolerate := func(p arch.Param, t safetensors.Tensor) bool {
		switch p.Role {
		case arch.LinearWeight:
			if len(t.Shape) == 2 && t.Shape[1] == p.Shape[1] && t.Shape[0] > 0 {
				fileClasses[p.Name] = t.Shape[0]
				return true
			}
		case arch.LinearBias:
			if len(t.Shape) == 1 && t.Shape[0] > 0 {
				fileClasses[p.Name] = t.Shape[0]
				return true
			}
		}
		return false
	}
	values, err := matchStateDict(f, cfg, mis, tolerate)
	if err != nil {
		return nil, err
	}
	out := &InitWeights{Values: values, FileClasses: cfg.Classes}
	if len(fileClasses) > 0 {
		// Both classifier entries must have been tolerated, with one count.
		k, consistent := 0, true
		for _, p := range cfg.Params() {
			if p.Role != arch.LinearWeight && p.Role != arch.LinearBias {
				continue
			}
			n, ok := fileClasses[p.Name]
			if !ok {
				if _, present := values[p.Name]; present {
					n = cfg.Classes
				} else {
					continue // missing: listed already
				}
			}
			if k == 0 {
				k = n
			}
			if n != k {
				consistent = false
			}
		}
		if !consistent {
			for name, n := range fileClasses {
				mis.MisShaped = append(mis.MisShaped, fmt.Sprintf("%s: file has %d classes, the other classifier tensor another count", name, n))
			}
		}
		out.FileClasses = k
	}
	if mis.any() {
		return nil, mis
	}
	if len(fileClasses) > 0 {
		fresh := InitHost(cfg, seed)
		for _, p := range cfg.Params() {
			if p.Role == arch.LinearWeight || p.Role == arch.LinearBias {
				values[p.Name] = fresh[p.Name]
				out.Reinitialized = append(out.Reinitialized, p.Name)
			}
		}
	}
	var bad []string
	for _, p := range cfg.Params() {
		for _, v := range values[p.Name] {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				bad = append(bad, p.Name)
				break
			}
		}
	}
	if len(bad) > 0 {
		return nil, fmt.Errorf("%w: %s in %s (%d tensors; was the model that made them diverged?)", ErrNonFiniteWeights, bad[0], path, len(bad))
	}
	return out, nil
}
