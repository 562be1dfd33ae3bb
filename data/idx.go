package data

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// IDX files (the MNIST format) start with a magic number: two zero bytes, a
// type byte (0x08 for unsigned bytes) and the number of dimensions, followed
// by one big-endian uint32 per dimension and then the data.
const idxTypeUint8 = 0x08

// maxIDXBytes bounds how much a (possibly hostile) IDX file may decompress to.
const maxIDXBytes = 1 << 31

// idxArray is a parsed uint8 IDX file.
type idxArray struct {
	dims []int
	data []uint8
}

// readIDXFile reads path, gunzipping it when it starts with the gzip magic,
// and parses it as a uint8 IDX array with wantDims dimensions.
func readIDXFile(path string, wantDims int) (*idxArray, error) {
	raw, err := readMaybeGzip(path)
	if err != nil {
		return nil, err
	}
	a, err := parseIDX(raw, wantDims)
	if err != nil {
		return nil, fmt.Errorf("data: %s: %w", path, err)
	}
	return a, nil
}

// readMaybeGzip returns the contents of path, decompressed if gzipped.
func readMaybeGzip(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("data: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("data: %s: bad gzip header: %v", path, err)
		}
		defer zr.Close()
		r = zr
	}
	raw, err := io.ReadAll(io.LimitReader(r, maxIDXBytes+1))
	if err != nil {
		return nil, fmt.Errorf("data: %s: reading failed (truncated or corrupt file?): %v", path, err)
	}
	if len(raw) > maxIDXBytes {
		return nil, fmt.Errorf("data: %s: larger than %d bytes, not an IDX dataset file", path, maxIDXBytes)
	}
	return raw, nil
}

// parseIDX parses raw as a uint8 IDX array that must have wantDims
// dimensions and exactly as many data bytes as the dimensions say.
func parseIDX(raw []byte, wantDims int) (*idxArray, error) {
	if len(raw) < 4 {
		return nil, fmt.Errorf("truncated: %d bytes, too short for the 4-byte IDX magic number", len(raw))
	}
	if raw[0] != 0 || raw[1] != 0 || raw[2] != idxTypeUint8 || int(raw[3]) != wantDims {
		return nil, fmt.Errorf("bad magic number 0x%08x, want 0x%08x (uint8 IDX with %d dimensions; is this the right file?)",
			binary.BigEndian.Uint32(raw), uint32(idxTypeUint8)<<8|uint32(wantDims), wantDims)
	}
	header := 4 + 4*wantDims
	if len(raw) < header {
		return nil, fmt.Errorf("truncated: %d bytes, too short for the %d-byte header", len(raw), header)
	}
	dims := make([]int, wantDims)
	total := uint64(1)
	for d := range dims {
		v := binary.BigEndian.Uint32(raw[4+4*d:])
		if v == 0 {
			return nil, fmt.Errorf("dimension %d is 0", d)
		}
		dims[d] = int(v)
		total *= uint64(v)
		if total > maxIDXBytes {
			return nil, fmt.Errorf("dimensions %v... describe more than %d bytes", dims[:d+1], maxIDXBytes)
		}
	}
	body := raw[header:]
	switch {
	case uint64(len(body)) < total:
		return nil, fmt.Errorf("truncated: dimensions %v need %d data bytes, file has %d", dims, total, len(body))
	case uint64(len(body)) > total:
		return nil, fmt.Errorf("%d unexpected bytes after the %d data bytes of dimensions %v", uint64(len(body))-total, total, dims)
	}
	return &idxArray{dims: dims, data: body}, nil
}

// WriteIDX writes data as an uncompressed uint8 IDX array with the given
// dimensions (for example {n, 28, 28} for images, {n} for labels). Wrap w in
// a gzip.Writer for .gz files.
func WriteIDX(w io.Writer, dims []int, data []uint8) error {
	if len(dims) == 0 || len(dims) > 255 {
		return fmt.Errorf("data: WriteIDX: %d dimensions, want 1..255", len(dims))
	}
	var buf bytes.Buffer
	buf.Write([]byte{0, 0, idxTypeUint8, byte(len(dims))})
	total := 1
	for _, d := range dims {
		if d <= 0 || d > 1<<31-1 {
			return fmt.Errorf("data: WriteIDX: dimensions %v must be positive", dims)
		}
		total *= d
		_ = binary.Write(&buf, binary.BigEndian, uint32(d))
	}
	if total != len(data) {
		return fmt.Errorf("data: WriteIDX: dimensions %v need %d bytes, got %d", dims, total, len(data))
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("data: WriteIDX: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("data: WriteIDX: %w", err)
	}
	return nil
}
