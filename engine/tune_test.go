package engine_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/shaders"
)

// saxpyRequest asks to tune a toy operation whose variants are the saxpy
// and saxpy_texel kernels (both y += a*x); benches counts the times the
// tuner made scratch tensors to time them.
func saxpyRequest(benches *int) engine.TuneRequest {
	const n = 4096
	return engine.TuneRequest{
		Op: "saxpy_test", Shape: "n=4096", Default: "storage",
		Variants: []engine.TuneVariant{{Name: "storage", Kernels: []string{"saxpy"}}, {Name: "texel", Kernels: []string{"saxpy_texel"}}},
		Bench: func(d *engine.Device) (func(s *engine.Sequence, i int), func(), error) {
			*benches++
			x, err := d.NewTensor("x", engine.Float32, n)
			if err != nil {
				return nil, nil, err
			}
			y, err := d.NewTensor("y", engine.Float32, n)
			if err != nil {
				x.Free()
				return nil, nil, err
			}
			kernels := []string{"saxpy", "saxpy_texel"}
			record := func(s *engine.Sequence, i int) {
				s.Dispatch1D(s.Kernel(kernels[i]), n, shaders.SaxpyPush{N: n, A: 0.5}, x, y)
			}
			return record, func() { x.Free(); y.Free() }, nil
		},
	}
}

// tuneEnv points the user cache at a temporary directory, switches tuning
// on and collects the tuner's warnings.
func tuneEnv(t *testing.T) *syncBuffer {
	t.Helper()
	enginetest.TempUserCache(t)
	t.Setenv(engine.TuneEnv, "on")
	t.Setenv(engine.TuneForceEnv, "")
	var warnings syncBuffer
	t.Cleanup(engine.SetTuneWarnings(&warnings))
	return &warnings
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// tuneOnce opens a fresh device (a new process, as far as the tuner is
// concerned) and tunes req on it.
func tuneOnce(t *testing.T, req engine.TuneRequest) (engine.TuneResult, string) {
	t.Helper()
	var res engine.TuneResult
	var path string
	t.Run("device", func(t *testing.T) {
		d := enginetest.Open(t)
		var err error
		if res, err = d.Tune(req); err != nil {
			t.Fatal(err)
		}
		path = d.TuneCachePath()
	})
	return res, path
}

// readTuneFile decodes the tune cache file at path into a generic map.
func readTuneFile(t *testing.T, path string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return f
}

func writeTuneFile(t *testing.T, path string, f map[string]any) {
	t.Helper()
	data, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestTuneCacheRoundTrip: the first device times both variants and stores
// the choice; a second one reads it back without timing anything.
func TestTuneCacheRoundTrip(t *testing.T) {
	warnings := tuneEnv(t)
	benches := 0
	first, path := tuneOnce(t, saxpyRequest(&benches))
	if first.Source != "measured" || benches != 1 || first.Times["storage"] <= 0 || first.Times["texel"] <= 0 {
		t.Fatalf("first tuning: %+v after %d benches: want both variants measured once", first, benches)
	}
	if !strings.HasPrefix(path, os.Getenv("XDG_CACHE_HOME")) || !strings.HasPrefix(filepath.Base(path), "tune-") {
		t.Fatalf("cache path %s: want tune-<device>.json under $XDG_CACHE_HOME", path)
	}
	f := readTuneFile(t, path)
	uuid, _ := f["device_uuid"].(string)
	if uuid == "" || filepath.Base(path) != "tune-"+uuid+".json" {
		t.Errorf("cache file %s records device %q: want its UUID in the file and its name", path, uuid)
	}
	entries, _ := f["entries"].(map[string]any)
	e, _ := entries["saxpy_test n=4096"].(map[string]any)
	if e == nil || e["variant"] != first.Variant || e["spirv_hash"] == "" {
		t.Fatalf("cache entries %v: want saxpy_test n=4096 -> %s with a SPIR-V hash", entries, first.Variant)
	}
	second, _ := tuneOnce(t, saxpyRequest(&benches))
	if second.Source != "cache" || second.Variant != first.Variant || benches != 1 || second.Times["texel"] != first.Times["texel"] {
		t.Fatalf("second tuning: %+v after %d benches: want %s from the cache, nothing timed", second, benches, first.Variant)
	}
	if w := warnings.String(); strings.Count(w, "\n") != 1 || !strings.Contains(w, "timing kernel variants") {
		t.Errorf("tuner output on a clean cache: %q, want only the notice that it times variants", w)
	}
}

// TestTuneCacheDistrusted: a corrupt file, one from another device or
// driver, and an entry for other SPIR-V are each ignored with one warning
// and tuned again.
func TestTuneCacheDistrusted(t *testing.T) {
	cases := []struct {
		name, warning string
		spoil         func(f map[string]any)
		corrupt       bool
	}{
		{name: "corrupt", warning: "is corrupt", corrupt: true},
		{name: "foreign", warning: "belongs to device", spoil: func(f map[string]any) { f["device_uuid"] = "00112233445566778899aabbccddeeff" }},
		{name: "driver", warning: "driver version", spoil: func(f map[string]any) { f["driver_version"] = 12345 }},
		{name: "format", warning: "has format 99", spoil: func(f map[string]any) { f["format"] = 99 }},
		{name: "spirv", warning: "other kernels", spoil: func(f map[string]any) {
			e := f["entries"].(map[string]any)["saxpy_test n=4096"].(map[string]any)
			e["spirv_hash"] = "0123"
		}},
		{name: "variant", warning: "other kernels", spoil: func(f map[string]any) {
			e := f["entries"].(map[string]any)["saxpy_test n=4096"].(map[string]any)
			e["variant"] = "no_such_variant"
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			warnings := tuneEnv(t)
			benches := 0
			_, path := tuneOnce(t, saxpyRequest(&benches))
			if c.corrupt {
				if err := os.WriteFile(path, []byte(`{"format": 1, "entries": {`), 0o644); err != nil {
					t.Fatal(err)
				}
			} else {
				f := readTuneFile(t, path)
				c.spoil(f)
				writeTuneFile(t, path, f)
			}
			again, _ := tuneOnce(t, saxpyRequest(&benches))
			if again.Source != "measured" || benches != 2 {
				t.Fatalf("after spoiling the cache: %+v, %d benches: want the variants timed again", again, benches)
			}
			if w := warnings.String(); strings.Count(w, "\n") != 3 || strings.Count(w, c.warning) != 1 {
				t.Fatalf("tuner output %q: want the timing notice twice and one warning saying %q", w, c.warning)
			}
			// The rewritten file is trusted again.
			third, _ := tuneOnce(t, saxpyRequest(&benches))
			if third.Source != "cache" || benches != 2 {
				t.Fatalf("after retuning: %+v, %d benches: want the rewritten cache used", third, benches)
			}
		})
	}
}

// TestTuneKeyIncludesKernels: the same operation and shape with other
// candidate kernels is not answered from the cache.
func TestTuneKeyIncludesKernels(t *testing.T) {
	tuneEnv(t)
	benches := 0
	req := saxpyRequest(&benches)
	tuneOnce(t, req)
	req.Variants[1].Kernels = []string{"fill"} // other SPIR-V, same names
	req.Bench = saxpyRequest(&benches).Bench
	again, _ := tuneOnce(t, req)
	if again.Source != "measured" || benches != 2 {
		t.Fatalf("with other kernels: %+v after %d benches: want a new measurement", again, benches)
	}
}

// TestTuneOffGivesDefault: EFFV2VK_TUNE=off records the default without
// timing or touching the cache; an unknown value is an error.
func TestTuneOffGivesDefault(t *testing.T) {
	tuneEnv(t)
	t.Setenv(engine.TuneEnv, "off")
	benches := 0
	res, path := tuneOnce(t, saxpyRequest(&benches))
	if res.Variant != "storage" || res.Source != "default" || benches != 0 {
		t.Fatalf("tuning off: %+v after %d benches: want the default, nothing timed", res, benches)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("tuning off wrote %s (%v)", path, err)
	}
	t.Setenv(engine.TuneEnv, "fast")
	d := enginetest.Open(t)
	if _, err := d.Tune(saxpyRequest(&benches)); err == nil || !strings.Contains(err.Error(), "use on or off") {
		t.Fatalf("EFFV2VK_TUNE=fast: %v, want an error naming on and off", err)
	}
}

// TestTuneOnly: EFFV2VK_TUNE_ONLY without the operation records its
// default without timing or caching it; with it, the operation is timed.
func TestTuneOnly(t *testing.T) {
	tuneEnv(t)
	benches := 0
	t.Setenv(engine.TuneOnlyEnv, "other_op, another_op")
	res, path := tuneOnce(t, saxpyRequest(&benches))
	if res.Variant != "storage" || res.Source != "default" || benches != 0 {
		t.Fatalf("saxpy_test left out of %s: %+v after %d benches: want the default, nothing timed", engine.TuneOnlyEnv, res, benches)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("an operation left out of %s was cached in %s (%v)", engine.TuneOnlyEnv, path, err)
	}
	t.Setenv(engine.TuneOnlyEnv, "other_op,saxpy_test")
	if res, _ = tuneOnce(t, saxpyRequest(&benches)); res.Source != "measured" || benches != 1 {
		t.Fatalf("saxpy_test listed in %s: %+v after %d benches: want it timed", engine.TuneOnlyEnv, res, benches)
	}
}

// TestTuneForced: a forced variant is honoured without timing; a forced
// variant that does not exist falls back to the default with a warning.
func TestTuneForced(t *testing.T) {
	warnings := tuneEnv(t)
	benches := 0
	t.Setenv(engine.TuneForceEnv, "saxpy_test=texel,other=x")
	res, _ := tuneOnce(t, saxpyRequest(&benches))
	if res.Variant != "texel" || res.Source != "forced" || benches != 0 {
		t.Fatalf("forced texel: %+v after %d benches", res, benches)
	}
	t.Setenv(engine.TuneEnv, "off")
	t.Setenv(engine.TuneForceEnv, "saxpy_test=missing")
	res, _ = tuneOnce(t, saxpyRequest(&benches))
	if res.Variant != "storage" || !strings.Contains(warnings.String(), `no eligible variant "missing"`) {
		t.Fatalf("forced missing variant: %+v, warnings %q: want the default and a warning", res, warnings.String())
	}
	t.Setenv(engine.TuneForceEnv, "saxpy_test")
	d := enginetest.Open(t)
	if _, err := d.Tune(saxpyRequest(&benches)); err == nil || !strings.Contains(err.Error(), "op=variant") {
		t.Fatalf("malformed %s: %v, want an error showing the form", engine.TuneForceEnv, err)
	}
}

// TestTuneResultsListed: TuneResults lists each decision once and OnTune
// reports it.
func TestTuneResultsListed(t *testing.T) {
	tuneEnv(t)
	d := enginetest.Open(t)
	var seen []string
	d.OnTune(func(r engine.TuneResult) { seen = append(seen, r.Op+" "+r.Variant) })
	benches := 0
	for i := 0; i < 2; i++ {
		if _, err := d.Tune(saxpyRequest(&benches)); err != nil {
			t.Fatal(err)
		}
	}
	got := d.TuneResults()
	if len(got) != 1 || len(seen) != 1 || benches != 1 || got[0].Op != "saxpy_test" {
		t.Fatalf("results %+v, observed %v, %d benches: want one decision, timed once", got, seen, benches)
	}
}
