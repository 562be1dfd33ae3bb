// Package disttest launches a test binary as the ranks of an Open MPI job
// on one machine, for the tests of dist and of the packages that use it.
package disttest

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"
)

// Args are mpirun's options for a job on this machine only: as root too,
// more ranks than cores, shared memory between ranks (without the
// single-copy mechanism, which containers forbid) and no core binding (each
// rank's Vulkan driver runs its own threads).
func Args(ranks int) []string {
	return []string{"--allow-run-as-root", "--oversubscribe", "--bind-to", "none",
		"-np", strconv.Itoa(ranks), "--mca", "btl", "self,vader", "--mca", "btl_vader_single_copy_mechanism", "none"}
}

// Mpirun returns the path of mpirun. Without it the test is skipped, or
// fails in CI (CI=true), where Open MPI is part of the setup
// (scripts/deps.sh).
func Mpirun(t testing.TB) string {
	t.Helper()
	path, err := exec.LookPath("mpirun")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("mpirun not found (CI=true): install Open MPI with scripts/deps.sh")
		}
		t.Skip("mpirun not found: install Open MPI (scripts/deps.sh) to run the multi-rank tests")
	}
	return path
}

// Result is what a job left: mpirun's exit status and combined output.
type Result struct {
	ExitCode int
	Output   string
	TimedOut bool
}

// Run launches ranks copies of this test binary with args under mpirun,
// with env added to the environment (every rank inherits it), and waits at
// most timeout.
func Run(t testing.TB, ranks int, timeout time.Duration, env []string, args ...string) Result {
	t.Helper()
	mpirun := Mpirun(t)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	full := append(Args(ranks), self)
	cmd := exec.CommandContext(ctx, mpirun, append(full, args...)...)
	// hwloc's GL component (libhwloc-plugins) opens X displays :0, :1, ...
	// to look for GPUs; a test's Xvfb that goes away meanwhile kills the
	// rank ("X connection to :0 broken"). Ranks need no GPU topology.
	cmd.Env = append(append(os.Environ(), "HWLOC_COMPONENTS=-gl"), env...)
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	res := Result{Output: string(out), TimedOut: ctx.Err() != nil}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		res.ExitCode = exit.ExitCode()
	case err != nil:
		t.Fatalf("mpirun: %v\n%s", err, out)
	}
	return res
}
