package engine_test

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// openHelperEnv makes this test binary, run again as a child, open a
// device and print what happened (TestOpenInChild).
const openHelperEnv = "EFFV2VK_OPEN_CHILD"

// TestOpenInChild is the child's side of TestOpenErrorsNameTheCause: it
// opens a validated device under the environment it was given and reports
// the error class on stdout. It does nothing in a normal run.
func TestOpenInChild(t *testing.T) {
	if os.Getenv(openHelperEnv) != "1" {
		return
	}
	d, err := engine.Open(engine.Options{Validate: true, PipelineCacheDir: "-"})
	if err == nil {
		d.Close()
	}
	skip, msg := enginetest.OpenFailure(err, false)
	switch {
	case err == nil:
		os.Stdout.WriteString("class: opened\n")
	case errors.Is(err, engine.ErrValidationLayerMissing):
		os.Stdout.WriteString("class: layer-missing\n")
	case errors.Is(err, engine.ErrDriverFiles):
		os.Stdout.WriteString("class: driver-files\n")
	case errors.Is(err, engine.ErrNoDevice):
		os.Stdout.WriteString("class: no-device\n")
	default:
		os.Stdout.WriteString("class: other\n")
	}
	if err != nil {
		os.Stdout.WriteString("skip: " + map[bool]string{true: "yes", false: "no"}[skip] + "\nmessage: " + msg + "\n")
	}
}

// TestOpenErrorsNameTheCause opens a device in child processes with a
// driver variable naming a missing file, and with the validation layer
// hidden: each is its own error, and a failure for tests even outside CI.
func TestOpenErrorsNameTheCause(t *testing.T) {
	if os.Getenv(openHelperEnv) == "1" {
		return
	}
	enginetest.RequireDevice(t) // needs a working setup to break
	noLayers := t.TempDir()
	cases := []struct {
		name  string
		env   []string
		class string
		text  string
	}{
		{"driver file missing", []string{"VK_DRIVER_FILES=" + filepath.Join(noLayers, "gone.json")}, "driver-files", "gone.json does not exist"},
		{"validation layer missing", []string{"VK_LAYER_PATH=" + noLayers, "VK_INSTANCE_LAYERS="}, "layer-missing", "VK_LAYER_KHRONOS_validation is not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^TestOpenInChild$", "-test.count=1")
			cmd.Env = append(append(os.Environ(), openHelperEnv+"=1", "CI="), c.env...)
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("child: %v\n%s", err, out)
			}
			text := string(out)
			if !strings.Contains(text, "class: "+c.class+"\n") || !strings.Contains(text, "skip: no\n") || !strings.Contains(text, c.text) {
				t.Fatalf("want class %s, no skip, and %q; the child said:\n%s", c.class, c.text, text)
			}
		})
	}
}
