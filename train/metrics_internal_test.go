package train

import (
	"os"
	"path/filepath"
	"testing"
)

// TestTrimMetrics: records past the checkpoint's step and a partial last
// line are dropped, the rest kept byte for byte.
func TestTrimMetrics(t *testing.T) {
	path := filepath.Join(t.TempDir(), "metrics.jsonl")
	kept := `{"kind":"train","step":1,"loss":2.3}
{"kind":"train","step":2,"loss":2.2}
{"kind":"eval","step":2,"top1":0.3}
`
	dropped := `{"kind":"train","step":3,"loss":2.1}
{"kind":"eval","step":3,"top1":0.4}
{"kind":"train","st`
	if err := os.WriteFile(path, []byte(kept+dropped), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := trimMetrics(path, 2); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != kept {
		t.Fatalf("after trimming to step 2:\n%s\nwant:\n%s", got, kept)
	}
	if err := trimMetrics(filepath.Join(t.TempDir(), "none.jsonl"), 5); err != nil {
		t.Fatalf("a missing metrics file: %v", err)
	}
}
