package main

import (
	"bytes"
	"os"
	"os/exec"
	"testing"

	"github.com/effv2vk/effv2vk/net/arch"
)

// runCLI runs the CLI in this process with args.
func runCLI(t *testing.T, args ...string) error {
	t.Helper()
	return newApp().Run(append([]string{"effv2vk"}, args...))
}

// widen converts float32 values to float64 exactly.
func widen(v []float32) []float64 {
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x)
	}
	return out
}

// mustLookup is arch.Lookup, failing t on an error.
func mustLookup(t *testing.T, model string, classes int) arch.Config {
	t.Helper()
	cfg, err := arch.Lookup(model, classes)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// childCommand is effv2vk run as a child process (the test binary in its
// main mode, see TestMain) with the validation layer on.
func childCommand(args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "EFFV2VK_VALIDATE=1")
	return cmd
}

// runChild runs effv2vk with args in a child process and returns what it
// wrote to stdout and stderr; a failure to run or a non-zero exit status
// fails t.
func runChild(t *testing.T, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := childCommand(args...)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("effv2vk %v: %v\nstdout:\n%s\nstderr:\n%s", args, err, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}
