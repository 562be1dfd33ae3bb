package safetensors

import (
	"bufio"
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"syscall"
)

// Encode writes tensors and metadata in the safetensors format to w. Tensors
// are laid out as the reference implementation does: larger element types
// first, then by name, so every tensor starts aligned to its element size;
// the header is padded with spaces to a multiple of 8 bytes.
func Encode(w io.Writer, tensors map[string]Tensor, metadata map[string]string) error {
	names, err := layoutOrder(tensors)
	if err != nil {
		return err
	}
	header, err := encodeHeader(names, tensors, metadata)
	if err != nil {
		return err
	}
	var size [8]byte
	binary.LittleEndian.PutUint64(size[:], uint64(len(header)))
	if _, err := w.Write(size[:]); err != nil {
		return fmt.Errorf("safetensors: write header length: %w", err)
	}
	if _, err := w.Write(header); err != nil {
		return fmt.Errorf("safetensors: write header: %w", err)
	}
	for _, name := range names {
		if _, err := w.Write(tensors[name].Data); err != nil {
			return fmt.Errorf("safetensors: write tensor %q: %w", name, err)
		}
	}
	return nil
}

// layoutOrder checks every tensor and returns the names in data order.
func layoutOrder(tensors map[string]Tensor) ([]string, error) {
	names := make([]string, 0, len(tensors))
	for name, t := range tensors {
		if name == "" || name == metadataKey {
			return nil, fmt.Errorf("safetensors: tensor name %q is reserved or empty: choose another", name)
		}
		if err := t.Check(); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int {
		if c := cmp.Compare(tensors[b].DType.Size(), tensors[a].DType.Size()); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	return names, nil
}

// headerRecord is one tensor's JSON header entry.
type headerRecord struct {
	DType       DType    `json:"dtype"`
	Shape       []int    `json:"shape"`
	DataOffsets [2]int64 `json:"data_offsets"`
}

// encodeHeader writes the JSON header with keys in data order, the metadata
// first, padded with spaces to a multiple of 8 bytes.
func encodeHeader(names []string, tensors map[string]Tensor, metadata map[string]string) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteByte('{')
	writeKey := func(key string) {
		k, _ := json.Marshal(key) // marshalling a string cannot fail
		if buf.Len() > 1 {
			buf.WriteByte(',')
		}
		buf.Write(k)
		buf.WriteByte(':')
	}
	if len(metadata) > 0 {
		m, err := json.Marshal(metadata)
		if err != nil {
			return nil, fmt.Errorf("safetensors: metadata: %w", err)
		}
		writeKey(metadataKey)
		buf.Write(m)
	}
	var offset int64
	for _, name := range names {
		t := tensors[name]
		rec := headerRecord{DType: t.DType, Shape: t.Shape, DataOffsets: [2]int64{offset, offset + int64(len(t.Data))}}
		if rec.Shape == nil {
			rec.Shape = []int{} // a scalar's shape is [], not null
		}
		r, err := json.Marshal(rec)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", name, err)
		}
		writeKey(name)
		buf.Write(r)
		offset = rec.DataOffsets[1]
	}
	buf.WriteByte('}')
	for buf.Len()%8 != 0 {
		buf.WriteByte(' ')
	}
	if buf.Len() > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header of %d bytes exceeds the %d-byte limit: too many tensors or too much metadata", buf.Len(), MaxHeaderSize)
	}
	return buf.Bytes(), nil
}

// WriteFile writes tensors and metadata to path atomically: the file is
// written to a temporary file in the same directory, synced, renamed over
// path and the directory synced, so a crash leaves either the old file or
// the complete new one.
func WriteFile(path string, tensors map[string]Tensor, metadata map[string]string) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("safetensors: create temporary file for %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if err := Encode(bw, tensors, metadata); err != nil {
		return fmt.Errorf("%w (writing %s)", err, path)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("safetensors: write %s: %w", tmp.Name(), err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("safetensors: chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("safetensors: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("safetensors: close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("safetensors: replace %s: %w", path, err)
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// directory (EINVAL) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("safetensors: open directory %s to sync it: %w", dir, err)
	}
	err = d.Sync()
	if closeErr := d.Close(); err == nil {
		err = closeErr
	}
	if err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("safetensors: sync directory %s: %w", dir, err)
	}
	return nil
}
