package enginetest

import (
	"os"
	"path/filepath"
	"testing"
)

// TempUserCache points the user cache directory ($XDG_CACHE_HOME: the
// tuner's and the pipeline cache's home) at a new temporary directory for
// the rest of t and returns it. Mesa's compiled shaders stay where they
// were ($MESA_SHADER_CACHE_DIR is set to their old place), so the test
// does not pay for compiling every kernel again.
func TempUserCache(t testing.TB) string {
	t.Helper()
	if os.Getenv("MESA_SHADER_CACHE_DIR") == "" {
		if base, err := os.UserCacheDir(); err == nil {
			t.Setenv("MESA_SHADER_CACHE_DIR", filepath.Join(base, "mesa_shader_cache"))
		}
	}
	dir := t.TempDir()
	t.Setenv("XDG_CACHE_HOME", dir)
	return dir
}
