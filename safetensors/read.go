package safetensors

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
)

// MaxHeaderSize is the largest JSON header accepted (as in the reference
// implementation), so a corrupt length cannot ask for gigabytes.
const MaxHeaderSize = 100_000_000

// metadataKey is the reserved header entry holding string metadata.
const metadataKey = "__metadata__"

// File is a parsed safetensors file.
type File struct {
	Metadata map[string]string // the "__metadata__" entry; empty when absent
	tensors  map[string]Tensor
}

// Read reads and parses the file at path.
func Read(path string) (*File, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	f, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%w (file %s)", err, path)
	}
	return f, nil
}

// Parse parses a whole safetensors file held in memory. The tensors' Data
// slices point into data, which must not be modified while they are in use.
func Parse(data []byte) (*File, error) {
	if len(data) < 8 {
		return nil, fmt.Errorf("safetensors: truncated file: %d bytes, shorter than the 8-byte header length", len(data))
	}
	headerLen := binary.LittleEndian.Uint64(data)
	if headerLen > MaxHeaderSize {
		return nil, fmt.Errorf("safetensors: header length %d exceeds the %d-byte limit: not a safetensors file or a corrupt one", headerLen, MaxHeaderSize)
	}
	if headerLen > uint64(len(data)-8) {
		return nil, fmt.Errorf("safetensors: header length %d runs past the end of the %d-byte file: truncated or corrupt", headerLen, len(data))
	}
	header, body := data[8:8+headerLen], data[8+headerLen:]
	entries, meta, err := parseHeader(header)
	if err != nil {
		return nil, err
	}
	if meta == nil { // "__metadata__": null
		meta = map[string]string{}
	}
	if err := checkLayout(entries, uint64(len(body))); err != nil {
		return nil, err
	}
	f := &File{Metadata: meta, tensors: make(map[string]Tensor, len(entries))}
	for _, e := range entries {
		f.tensors[e.name] = Tensor{DType: e.dtype, Shape: e.shape, Data: body[e.begin:e.end:e.end]}
	}
	return f, nil
}

// Names returns the tensor names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.tensors))
	for name := range f.tensors {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// Len returns the number of tensors.
func (f *File) Len() int { return len(f.tensors) }

// Tensor returns the named tensor.
func (f *File) Tensor(name string) (Tensor, error) {
	t, ok := f.tensors[name]
	if !ok {
		return Tensor{}, fmt.Errorf("safetensors: no tensor %q among the file's %d tensors", name, len(f.tensors))
	}
	return t, nil
}

// Tensors returns every tensor by name (a new map; the tensors share data
// with the file).
func (f *File) Tensors() map[string]Tensor {
	out := make(map[string]Tensor, len(f.tensors))
	for name, t := range f.tensors {
		out[name] = t
	}
	return out
}

// Float32s returns the named tensor's elements as float32 (see Tensor.Float32s).
func (f *File) Float32s(name string) ([]float32, error) {
	t, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	v, err := t.Float32s()
	if err != nil {
		return nil, fmt.Errorf("%w (tensor %q)", err, name)
	}
	return v, nil
}

// Int64s returns the named tensor's elements as int64 (see Tensor.Int64s).
func (f *File) Int64s(name string) ([]int64, error) {
	t, err := f.Tensor(name)
	if err != nil {
		return nil, err
	}
	v, err := t.Int64s()
	if err != nil {
		return nil, fmt.Errorf("%w (tensor %q)", err, name)
	}
	return v, nil
}

// headerEntry is one tensor's header line, checked.
type headerEntry struct {
	name       string
	dtype      DType
	shape      []int
	begin, end uint64
}

// rawEntry is a tensor entry as JSON holds it; pointers tell missing fields
// from empty ones.
type rawEntry struct {
	DType       *string  `json:"dtype"`
	Shape       *[]int64 `json:"shape"`
	DataOffsets *[]int64 `json:"data_offsets"`
}

// parseHeader decodes the JSON header, rejecting duplicate names, missing
// fields and trailing content.
func parseHeader(header []byte) ([]headerEntry, map[string]string, error) {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("safetensors: bad header: %s", fmt.Sprintf(format, args...))
	}
	if len(header) == 0 || header[0] != '{' {
		return nil, nil, bad("the JSON header must start with '{'")
	}
	dec := json.NewDecoder(bytes.NewReader(header))
	if _, err := dec.Token(); err != nil {
		return nil, nil, bad("%v", err)
	}
	meta := map[string]string{}
	seen := map[string]bool{}
	var entries []headerEntry
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, nil, bad("%v", err)
		}
		name, ok := tok.(string)
		if !ok {
			return nil, nil, bad("expected a tensor name, found %v", tok)
		}
		if seen[name] {
			return nil, nil, bad("tensor %q appears twice", name)
		}
		seen[name] = true
		if name == metadataKey {
			if err := dec.Decode(&meta); err != nil {
				return nil, nil, bad("%s must map strings to strings: %v", metadataKey, err)
			}
			continue
		}
		var raw rawEntry
		if err := dec.Decode(&raw); err != nil {
			return nil, nil, bad("tensor %q: %v", name, err)
		}
		e, err := checkEntry(name, raw)
		if err != nil {
			return nil, nil, bad("%v", err)
		}
		entries = append(entries, e)
	}
	if _, err := dec.Token(); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, bad("the JSON object is not closed: truncated header")
		}
		return nil, nil, bad("%v", err)
	}
	if rest := header[dec.InputOffset():]; len(bytes.TrimRight(rest, " \t\r\n")) != 0 {
		return nil, nil, bad("unexpected content after the JSON object")
	}
	return entries, meta, nil
}

// checkEntry validates one tensor entry on its own.
func checkEntry(name string, raw rawEntry) (headerEntry, error) {
	switch {
	case raw.DType == nil:
		return headerEntry{}, fmt.Errorf("tensor %q has no dtype", name)
	case raw.Shape == nil:
		return headerEntry{}, fmt.Errorf("tensor %q has no shape (use [] for a scalar)", name)
	case raw.DataOffsets == nil || len(*raw.DataOffsets) != 2:
		return headerEntry{}, fmt.Errorf("tensor %q: data_offsets must be [begin, end]", name)
	}
	e := headerEntry{name: name, dtype: DType(*raw.DType)}
	if !e.dtype.Valid() {
		return headerEntry{}, fmt.Errorf("tensor %q: unsupported dtype %q (supported: %s)", name, e.dtype, supportedDTypes())
	}
	e.shape = make([]int, len(*raw.Shape))
	for i, d := range *raw.Shape {
		if d < 0 || int64(int(d)) != d {
			return headerEntry{}, fmt.Errorf("tensor %q: shape %v has an invalid dimension", name, *raw.Shape)
		}
		e.shape[i] = int(d)
	}
	begin, end := (*raw.DataOffsets)[0], (*raw.DataOffsets)[1]
	if begin < 0 || end < begin {
		return headerEntry{}, fmt.Errorf("tensor %q: data_offsets [%d, %d] are not an increasing pair", name, begin, end)
	}
	e.begin, e.end = uint64(begin), uint64(end)
	size, err := byteSize(e.dtype, e.shape)
	if err != nil {
		return headerEntry{}, fmt.Errorf("tensor %q: %v", name, err)
	}
	if e.end-e.begin != size {
		return headerEntry{}, fmt.Errorf("tensor %q: %s shape %v needs %d bytes but data_offsets [%d, %d] hold %d",
			name, e.dtype, e.shape, size, begin, end, e.end-e.begin)
	}
	return e, nil
}

// checkLayout checks that the tensors tile the data section exactly: every
// range inside it, no overlaps, no gaps, nothing left over (the reference
// implementation's rule).
func checkLayout(entries []headerEntry, dataLen uint64) error {
	sorted := slices.Clone(entries)
	slices.SortFunc(sorted, func(a, b headerEntry) int {
		if a.begin != b.begin {
			return cmp.Compare(a.begin, b.begin)
		}
		return cmp.Compare(a.end, b.end)
	})
	var pos uint64
	prev := ""
	for _, e := range sorted {
		switch {
		case e.end > dataLen:
			return fmt.Errorf("safetensors: bad data layout: tensor %q ends at byte %d of a %d-byte data section: truncated file?", e.name, e.end, dataLen)
		case e.begin < pos:
			return fmt.Errorf("safetensors: bad data layout: tensor %q [%d, %d) overlaps tensor %q ending at %d", e.name, e.begin, e.end, prev, pos)
		case e.begin > pos:
			return fmt.Errorf("safetensors: bad data layout: data bytes [%d, %d) belong to no tensor (next is %q)", pos, e.begin, e.name)
		}
		pos, prev = e.end, e.name
	}
	if pos != dataLen {
		return fmt.Errorf("safetensors: bad data layout: %d bytes after the last tensor ends at %d: corrupt or concatenated file", dataLen-pos, pos)
	}
	return nil
}
