package train

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/safetensors"
)

// checkpointVersion is bumped when the layout below changes.
const checkpointVersion = 1

// metaKey is the safetensors metadata entry holding the checkpoint's JSON.
const metaKey = "effv2vk.checkpoint"

// position is where in the schedule a run stands: the next batch to train.
type position struct {
	Epoch    int     `json:"epoch"`
	Batch    int     `json:"batch"` // batches of Epoch already done
	Step     int     `json:"step"`  // optimizer steps done
	BestTop1 float64 `json:"best_top1"`
}

// checkpointMeta is the JSON stored in a checkpoint's metadata.
type checkpointMeta struct {
	Version  int      `json:"version"`
	Config   Config   `json:"config"`
	Position position `json:"position"`
	Device   string   `json:"device"`
	Classes  []string `json:"classes"`
	Model    string   `json:"model"`
	// Align is the element alignment of the flat optimizer and EMA state
	// (net.Layout); a device with another alignment realigns it on resume.
	Align int `json:"align"`
	// ImageSize is the evaluation image size; RawH, RawW, RawC the size of
	// the uint8 images the model is fed (the dataset's own).
	ImageSize        int `json:"image_size"`
	RawH, RawW, RawC int
}

// namedTensor is a device tensor saved under a name.
type namedTensor struct {
	Name   string
	Tensor *engine.Tensor
}

// saveCheckpoint writes model (torchvision names under "model/"), extra
// state tensors (optimizer, EMA) and the position atomically to path.
func saveCheckpoint(path string, meta checkpointMeta, m *net.Model, extra []namedTensor) error {
	values, err := m.Store.Snapshot()
	if err != nil {
		return err
	}
	sd, err := net.StateDict(m.Config.Params(), values)
	if err != nil {
		return err
	}
	tensors := make(map[string]safetensors.Tensor, len(sd)+len(extra))
	for k, v := range sd {
		tensors["model/"+k] = v
	}
	for _, e := range extra {
		v, err := e.Tensor.Floats()
		if err != nil {
			return err
		}
		t, err := safetensors.Float32Tensor([]int{len(v)}, v)
		if err != nil {
			return err
		}
		tensors[e.Name] = t
	}
	meta.Version = checkpointVersion
	raw, err := json.Marshal(meta)
	if err != nil {
		return err
	}
	return writeAtomic(path, func(w io.Writer) error {
		return safetensors.Encode(w, tensors, map[string]string{metaKey: string(raw)})
	})
}

// readCheckpointMeta reads a checkpoint's metadata.
func readCheckpointMeta(f *safetensors.File, path string) (checkpointMeta, error) {
	var meta checkpointMeta
	raw, ok := f.Metadata[metaKey]
	if !ok {
		return meta, fmt.Errorf("train: %s is not an effv2vk checkpoint (no %s metadata)", path, metaKey)
	}
	if err := json.Unmarshal([]byte(raw), &meta); err != nil {
		return meta, fmt.Errorf("train: checkpoint %s: bad metadata: %v", path, err)
	}
	if meta.Version != checkpointVersion {
		return meta, fmt.Errorf("train: checkpoint %s has version %d, this effv2vk reads version %d", path, meta.Version, checkpointVersion)
	}
	return meta, nil
}

// loadCheckpoint restores the model and the extra tensors from path and
// returns its metadata. Everything is checked before anything is uploaded.
func loadCheckpoint(path string, mc arch.Config, m *net.Model, extra []namedTensor) (checkpointMeta, error) {
	f, err := safetensors.Read(path)
	if err != nil {
		return checkpointMeta{}, fmt.Errorf("train: checkpoint %s: %w", path, err)
	}
	meta, err := readCheckpointMeta(f, path)
	if err != nil {
		return meta, err
	}
	values, err := modelValues(f, path, mc)
	if err != nil {
		return meta, err
	}
	if meta.Align < 1 {
		return meta, fmt.Errorf("train: checkpoint %s: bad buffer alignment %d in its metadata", path, meta.Align)
	}
	from, to := net.NewLayout(mc, meta.Align), net.NewLayout(mc, m.Store.Align)
	extraValues := make([][]float32, len(extra))
	for i, e := range extra {
		v, err := f.Float32s(e.Name)
		if err != nil {
			return meta, fmt.Errorf("train: checkpoint %s lacks %s (different optimizer or EMA setting?): %v", path, e.Name, err)
		}
		if meta.Align != m.Store.Align {
			// Made on a device with another buffer alignment.
			if v, err = realignFrozen(mc, e.Name, v, from, to, meta.Config.Freeze); err != nil {
				return meta, fmt.Errorf("%w (checkpoint %s)", err, path)
			}
		}
		if len(v) != e.Tensor.Len() {
			return meta, fmt.Errorf("train: checkpoint %s: %s has %d values, want %d", path, e.Name, len(v), e.Tensor.Len())
		}
		extraValues[i] = v
	}
	if err := m.Store.Load(values); err != nil {
		return meta, err
	}
	for i, e := range extra {
		if err := e.Tensor.Upload(extraValues[i]); err != nil {
			return meta, err
		}
	}
	return meta, nil
}

// modelValues reads a checkpoint's model tensors ("model/<torchvision
// name>") by name, checking each against mc (num_batches_tracked as a
// one-element float).
func modelValues(f *safetensors.File, path string, mc arch.Config) (map[string][]float32, error) {
	values := map[string][]float32{}
	for _, p := range mc.Params() {
		t, err := f.Tensor("model/" + p.Name)
		if err != nil {
			return nil, fmt.Errorf("train: checkpoint %s does not hold %s for %s: was it made for another model? (%v)", path, p.Name, mc.Name, err)
		}
		if p.DType == arch.Int64 {
			iv, err := t.Int64s()
			if err != nil {
				return nil, err
			}
			values[p.Name] = []float32{float32(iv[0])}
			continue
		}
		v, err := t.Float32s()
		if err != nil {
			return nil, err
		}
		if len(v) != p.Elements() {
			return nil, fmt.Errorf("train: checkpoint %s: %s has %d values, the model needs %d: made for another model or class count", path, p.Name, len(v), p.Elements())
		}
		values[p.Name] = v
	}
	return values, nil
}

// checkpointName is the file name of the checkpoint after step.
func checkpointName(step int) string { return fmt.Sprintf("ckpt-%09d.safetensors", step) }

// listCheckpoints returns the step checkpoints in dir, oldest first.
func listCheckpoints(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "ckpt-*.safetensors"))
	if err != nil {
		return nil, err
	}
	sort.Strings(m)
	return m, nil
}

// latestCheckpoint returns the newest readable checkpoint in dir ("" when
// none), skipping (and reporting) unreadable ones.
func latestCheckpoint(dir string, warn func(string, ...any)) (string, error) {
	all, err := listCheckpoints(dir)
	if err != nil {
		return "", err
	}
	for i := len(all) - 1; i >= 0; i-- {
		f, err := safetensors.Read(all[i])
		if err == nil {
			if _, err = readCheckpointMeta(f, all[i]); err == nil {
				return all[i], nil
			}
		}
		warn("skipping unreadable checkpoint %s: %v", all[i], err)
	}
	return "", nil
}

// runFiles are the files a training run leaves in its output directory
// (besides config.json and snapshot.json, which every run rewrites).
var runFiles = []string{"metrics.jsonl", "best.safetensors", "ckpt-*.safetensors"}

// prepareOutDir creates the output directory. A new run (not --resume)
// refuses a directory that holds another run's metrics or checkpoints:
// pruning would delete its own checkpoints in favour of the old run's
// higher step numbers, and a later --resume would find the old run. With
// Overwrite, the old run's files are deleted first.
func prepareOutDir(cfg Config) error {
	if err := os.MkdirAll(cfg.OutDir, 0o755); err != nil {
		return fmt.Errorf("train: output dir: %w", err)
	}
	if cfg.Resume {
		return nil
	}
	var old []string
	for _, pattern := range runFiles {
		m, err := filepath.Glob(filepath.Join(cfg.OutDir, pattern))
		if err != nil {
			return err
		}
		old = append(old, m...)
	}
	if len(old) == 0 {
		return nil
	}
	if !cfg.Overwrite {
		return fmt.Errorf("train: %s already holds a training run (%d files such as %s): continue it with --resume, start over with --overwrite (deletes them), or choose another --out",
			cfg.OutDir, len(old), filepath.Base(old[0]))
	}
	for _, f := range old {
		if err := os.Remove(f); err != nil {
			return fmt.Errorf("train: --overwrite: %w", err)
		}
	}
	return nil
}

// pruneCheckpoints keeps the newest keep step checkpoints.
func pruneCheckpoints(dir string, keep int) error {
	all, err := listCheckpoints(dir)
	if err != nil {
		return err
	}
	for i := 0; i < len(all)-keep; i++ {
		if err := os.Remove(all[i]); err != nil && !os.IsNotExist(err) {
			return err
		}
	}
	// Temp files of an interrupted write are removed too.
	tmps, _ := filepath.Glob(filepath.Join(dir, ".*.tmp*"))
	for _, t := range tmps {
		if strings.Contains(filepath.Base(t), "ckpt") {
			os.Remove(t)
		}
	}
	return nil
}
