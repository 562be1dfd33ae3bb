package ops_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// narrowChildEnv makes this test binary, run again as a child under
// lavapipe with 4-wide subgroups, check the width it runs at.
const narrowChildEnv = "EFFV2VK_NARROW_SUBGROUP_CHILD"

// narrowSuite are the tests the child runs at subgroup width 4: the
// convolutions and the 1x1 GEMMs, whose workgroups of 8 lanes then take
// the shared-memory broadcast instead of subgroupShuffle, against their
// float64 references, forward and backward.
const narrowSuite = "TestNarrowSubgroupChild|TestConv2D|TestConv2DFiniteDifference|TestPointwiseTilings|TestPointwiseRealShapes|TestPointwiseFiniteDifferences|TestFusedForwardMatchesUnfused|TestPointwiseInputScaleMatchesUnfused|TestPointwiseScaledMatchesUnfused"

// TestNarrowSubgroupChild is the child's side of TestNarrowSubgroups: it
// proves the child runs at subgroup width 4 (so the others in narrowSuite
// ran there too); it does nothing in a normal run.
func TestNarrowSubgroupChild(t *testing.T) {
	if os.Getenv(narrowChildEnv) != "1" {
		return
	}
	d := enginetest.Open(t)
	if d.Info.SubgroupSize != 4 {
		t.Fatalf("the child got subgroups of %d; LP_NATIVE_VECTOR_WIDTH=128 should give 4", d.Info.SubgroupSize)
	}
}

// TestNarrowSubgroups runs narrowSuite in a child on lavapipe with 4-wide
// subgroups (LP_NATIVE_VECTOR_WIDTH=128): conv2d and the 1x1 GEMM, built
// for 8 lanes, must still match their references there.
func TestNarrowSubgroups(t *testing.T) {
	if os.Getenv(narrowChildEnv) == "1" {
		return
	}
	d := enginetest.Open(t)
	if !strings.Contains(d.Info.Name, "llvmpipe") {
		t.Skipf("needs lavapipe to narrow the subgroups; the device is %s", d.Info.Name)
	}
	if d.Info.SubgroupSize == 4 {
		t.Skip("already at subgroup width 4: the suite itself runs narrowSuite")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^("+narrowSuite+")$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), narrowChildEnv+"=1", "LP_NATIVE_VECTOR_WIDTH=128")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	for _, name := range strings.Split(narrowSuite, "|") {
		if !strings.Contains(string(out), "--- PASS: "+name+" ") {
			t.Errorf("child did not pass %s:\n%s", name, out)
		}
	}
}
