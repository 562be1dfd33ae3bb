package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// testTuneFile is the file a test's cache handles share: one device's.
func testTuneFile() tuneFile {
	return tuneFile{Format: tuneCacheFormat, DeviceUUID: "00112233445566778899aabbccddeeff", DeviceName: "test device",
		DriverVersion: 7, Entries: map[string]tuneEntry{}}
}

// diskEntries reads the entries of the tune file at path.
func diskEntries(t *testing.T, path string) map[string]tuneEntry {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f tuneFile
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s is not valid JSON: %v", path, err)
	}
	return f.Entries
}

// TestTuneCacheHandlesMerge: two handles on one file (two processes, as
// far as the file is concerned), each opened before the other stored
// anything, store different choices; every choice survives, first one at
// a time, then both handles storing at once.
func TestTuneCacheHandlesMerge(t *testing.T) {
	t.Cleanup(SetTuneWarnings(io.Discard))
	path := filepath.Join(t.TempDir(), "effv2vk", "tune-test.json")
	a, b := openTuneCacheAt(path, testTuneFile()), openTuneCacheAt(path, testTuneFile())
	a.store("op_a n=1", "hash-a", TuneResult{Variant: "fast", Default: "slow"})
	b.store("op_b n=1", "hash-b", TuneResult{Variant: "slow", Default: "slow"})
	got := diskEntries(t, path)
	if got["op_a n=1"].Variant != "fast" || got["op_b n=1"].Variant != "slow" || len(got) != 2 {
		t.Fatalf("after a stored op_a and b op_b: file holds %v, want both", got)
	}
	if _, ok := b.lookup("op_a n=1", "hash-a", []TuneVariant{{Name: "fast"}, {Name: "slow"}}); !ok {
		t.Errorf("b does not see a's choice after its own store merged the file")
	}

	const each = 40
	var wg sync.WaitGroup
	for _, h := range []struct {
		name  string
		cache *tuneCache
	}{{"a", a}, {"b", b}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				h.cache.store(fmt.Sprintf("op_%s n=%d", h.name, i+2), "hash", TuneResult{Variant: h.name, Default: "slow"})
			}
		}()
	}
	wg.Wait()
	got = diskEntries(t, path)
	if len(got) != 2+2*each {
		t.Fatalf("after %d concurrent stores from each handle the file holds %d entries, want %d", each, len(got), 2+2*each)
	}
	for _, name := range []string{"a", "b"} {
		for i := 0; i < each; i++ {
			if e := got[fmt.Sprintf("op_%s n=%d", name, i+2)]; e.Variant != name {
				t.Fatalf("entry op_%s n=%d: %+v, want variant %s", name, i+2, e, name)
			}
		}
	}
	leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".tune-*.tmp"))
	if len(leftovers) != 0 {
		t.Errorf("temporary files left behind: %v", leftovers)
	}
}

// TestTuneCacheStoreReplacesUntrusted: a store over a corrupt file (one
// that was fine when the handle opened) replaces it with a warning and
// keeps this handle's choices; a file of another driver is replaced too.
func TestTuneCacheStoreReplacesUntrusted(t *testing.T) {
	var warnings syncWriter
	t.Cleanup(SetTuneWarnings(&warnings))
	path := filepath.Join(t.TempDir(), "tune-test.json")
	c := openTuneCacheAt(path, testTuneFile())
	c.store("op_a n=1", "h", TuneResult{Variant: "fast", Default: "slow"})
	if err := os.WriteFile(path, []byte(`{"format": 2, "entries": {`), 0o644); err != nil {
		t.Fatal(err)
	}
	c.store("op_b n=1", "h", TuneResult{Variant: "slow", Default: "slow"})
	if got := diskEntries(t, path); len(got) != 2 || got["op_a n=1"].Variant != "fast" {
		t.Fatalf("after a store over a corrupt file: %v, want this handle's two choices", got)
	}
	if w := warnings.String(); !strings.Contains(w, "is corrupt") || !strings.Contains(w, "replacing it") {
		t.Fatalf("warnings %q: want one saying the corrupt file is replaced", w)
	}
	other := testTuneFile()
	other.DriverVersion = 8
	d := openTuneCacheAt(path, other) // warns: another driver's file
	d.store("op_c n=1", "h", TuneResult{Variant: "slow", Default: "slow"})
	if got := diskEntries(t, path); len(got) != 1 || got["op_c n=1"].Variant != "slow" {
		t.Fatalf("after another driver's store: %v, want only its choice (the old driver's are not trusted)", got)
	}
}

// syncWriter collects warnings from concurrent writers.
type syncWriter struct {
	mu sync.Mutex
	b  []byte
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.b = append(w.b, p...)
	return len(p), nil
}

func (w *syncWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return string(w.b)
}
