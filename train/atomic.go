package train

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
)

// writePoint names a moment inside writeAtomic at which a test may stop it.
type writePoint int

const (
	// afterPartialWrite: some bytes (not all) are in the temporary file.
	afterPartialWrite writePoint = iota
	// beforeRename: the temporary file is complete and synced, not renamed.
	beforeRename
)

// crashHook, set only by tests, is called at each writePoint of every
// atomic write with the destination path and the bytes written to the
// temporary file so far. An error it returns stops the write on the spot,
// as a crash would: the temporary file is left as it is, unrenamed.
var crashHook func(path string, at writePoint, written int64) error

// writeAtomic replaces path with what write produces, through a temporary
// file in the same directory, fsync and a rename (and a sync of the
// directory): a crash at any moment leaves either the old file or the new
// one, never a partial one under path.
func writeAtomic(path string, write func(io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("train: creating a temporary file for %s: %w", path, err)
	}
	crashed := false
	defer func() {
		if err != nil && !crashed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	file := &hookedWriter{w: tmp, path: path}
	bw := bufio.NewWriterSize(file, 1<<20)
	if err := write(bw); err != nil {
		crashed = file.crashed
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	if err := bw.Flush(); err != nil {
		crashed = file.crashed
		return fmt.Errorf("train: writing %s: %w", path, err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		return fmt.Errorf("train: chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("train: sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("train: close %s: %w", tmp.Name(), err)
	}
	if crashHook != nil {
		if err := crashHook(path, beforeRename, file.written); err != nil {
			crashed = true
			return err
		}
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("train: replacing %s: %w", path, err)
	}
	return syncDir(dir)
}

// hookedWriter counts the bytes reaching the temporary file and offers the
// crash hook the moment after the first write that reaches it.
type hookedWriter struct {
	w       io.Writer
	path    string
	written int64
	crashed bool
}

func (h *hookedWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	h.written += int64(n)
	if err == nil && crashHook != nil && !h.crashed {
		if herr := crashHook(h.path, afterPartialWrite, h.written); herr != nil {
			h.crashed = true
			return n, herr
		}
	}
	return n, err
}

// syncDir makes a rename in dir durable. File systems that cannot sync a
// directory (EINVAL) are not an error.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("train: opening directory %s to sync it: %w", dir, err)
	}
	err = d.Sync()
	if closeErr := d.Close(); err == nil {
		err = closeErr
	}
	if err != nil && !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("train: sync directory %s: %w", dir, err)
	}
	return nil
}
