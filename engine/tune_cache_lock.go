package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// withFileLock runs fn while holding an exclusive advisory lock (flock) on
// the file at path, created if missing and left in place (removing it
// would let two processes lock two different files). The lock is released
// when fn returns, or by the kernel if the process dies holding it.
func withFileLock(path string, fn func() error) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if err != syscall.EINTR {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("locking %s: %w", path, err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}
