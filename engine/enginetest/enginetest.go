// Package enginetest opens a Vulkan device for tests, with the validation
// layer and synchronization validation on, and fails the test on any
// validation message.
//
// Without a Vulkan device a test is skipped, except under CI=true, where a
// missing device is a failure.
package enginetest

import (
	"os"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
)

// Open returns a validated device for t and closes it when t ends, failing
// t if the validation layer reported anything.
func Open(t testing.TB) *engine.Device {
	t.Helper()
	d, err := engine.Open(engine.Options{Validate: true, PipelineCacheDir: "-"})
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no Vulkan device under CI: %v", err)
		}
		t.Skipf("no Vulkan device: %v", err)
	}
	t.Cleanup(func() {
		Check(t, d)
		if err := d.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		Check(t, d)
	})
	return d
}

// Check fails t for every validation message collected so far.
func Check(t testing.TB, d *engine.Device) {
	t.Helper()
	msgs := d.ValidationMessages()
	for _, m := range msgs {
		t.Errorf("validation: %s", m)
	}
}

// Messages returns the validation messages collected so far that contain
// substr, leaving none behind.
func Messages(d *engine.Device, substr string) []string {
	var out []string
	for _, m := range d.ValidationMessages() {
		if strings.Contains(m, substr) {
			out = append(out, m)
		}
	}
	return out
}
