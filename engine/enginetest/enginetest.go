// Package enginetest opens a Vulkan device for tests, with the validation
// layer and synchronization validation on, and fails the test on any
// validation message that device collected.
//
// Without a Vulkan device a test is skipped, except under CI=true, where a
// missing device is a failure. A missing validation layer or a
// $VK_DRIVER_FILES that names a missing or broken driver is always a
// failure, with its own message: those are a broken setup, not a machine
// without a GPU.
package enginetest

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
)

// Open returns a validated device for t (the default choice) and closes it
// when t ends, failing t on every validation message the device collected
// and that the test did not take with TakeMessages.
func Open(t testing.TB) *engine.Device {
	t.Helper()
	return OpenWith(t, engine.Options{})
}

// OpenWith is Open with options (a device selector); validation is always
// on, and the persistent pipeline cache is off unless opts names one.
func OpenWith(t testing.TB, opts engine.Options) *engine.Device {
	t.Helper()
	failOnUnclaimed(t, "before this test")
	opts.Validate = true
	if opts.PipelineCacheDir == "" {
		opts.PipelineCacheDir = "-"
	}
	d, err := engine.Open(opts)
	if err != nil {
		FailOpen(t, err)
	}
	t.Cleanup(func() {
		Check(t, d)
		if err := d.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
		Check(t, d)
		failOnUnclaimed(t, "while no device was open during this test")
	})
	return d
}

// RequireDevice skips t (or fails it, under CI) when no validated device
// can be opened, for a test that opens its devices another way. The device
// it opens is closed and checked before it returns: a device left open
// would be charged the messages of the test's own devices too.
func RequireDevice(t testing.TB) {
	t.Helper()
	d, err := engine.Open(engine.Options{Validate: true, PipelineCacheDir: "-"})
	if err != nil {
		FailOpen(t, err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	Check(t, d)
}

// FailOpen ends t after engine.Open (or engine.ListDevices) failed with
// err: a skip when the machine has no Vulkan device and CI is not "true", a
// failure otherwise (OpenFailure).
func FailOpen(t testing.TB, err error) {
	t.Helper()
	skip, msg := OpenFailure(err, os.Getenv("CI") == "true")
	if skip {
		t.Skip(msg)
	}
	t.Fatal(msg)
}

// OpenFailure says what a failed engine.Open means for a test: a skip only
// when the machine has no Vulkan device and the run is not CI; a failure,
// with a message naming the cause, otherwise.
func OpenFailure(err error, ci bool) (skip bool, msg string) {
	switch {
	case errors.Is(err, engine.ErrValidationLayerMissing):
		return false, "validation layer missing (tests always run with it): " + err.Error()
	case errors.Is(err, engine.ErrDriverFiles):
		return false, "bad Vulkan driver selection: " + err.Error()
	case errors.Is(err, engine.ErrNoDevice) && !ci:
		return true, "no Vulkan device: " + err.Error()
	case errors.Is(err, engine.ErrNoDevice):
		return false, "no Vulkan device under CI: " + err.Error()
	}
	return false, "opening the Vulkan device: " + err.Error()
}

// Check fails t for every validation message d collected so far.
func Check(t testing.TB, d *engine.Device) {
	t.Helper()
	for _, m := range d.ValidationMessages() {
		t.Errorf("validation: %s", m)
	}
}

// TakeMessages returns and clears d's validation messages that contain
// substr, for a test that expects them (a negative control). The messages
// that do not match stay with d and still fail the test.
func TakeMessages(d *engine.Device, substr string) []string {
	return d.TakeValidationMessages(func(m string) bool { return strings.Contains(m, substr) })
}

// failOnUnclaimed fails t for messages reported while no validated device
// was open (none can be charged to a device); when says when they came.
func failOnUnclaimed(t testing.TB, when string) {
	t.Helper()
	for _, m := range engine.UnclaimedValidationMessages() {
		t.Errorf("validation message reported %s, with no device open: %s", when, m)
	}
}
