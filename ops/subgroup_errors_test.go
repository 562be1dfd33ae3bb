package ops_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
)

// narrowChildEnv makes this test binary, run again as a child under
// lavapipe with 4-wide subgroups, record the ops that need 8 lanes.
const narrowChildEnv = "EFFV2VK_NARROW_SUBGROUP_CHILD"

// TestNarrowSubgroupChild is the child's side of
// TestNarrowSubgroupErrors; it does nothing in a normal run.
func TestNarrowSubgroupChild(t *testing.T) {
	if os.Getenv(narrowChildEnv) != "1" {
		return
	}
	d := enginetest.Open(t)
	if d.Info.SubgroupSize >= 8 {
		t.Fatalf("the child got subgroups of %d; LP_NATIVE_VECTOR_WIDTH=128 should give 4", d.Info.SubgroupSize)
	}
	newT := func(shape ...int) *engine.Tensor { return newTensor(t, d, engine.Float32, shape...) }
	wantRecordErrors(t, d, []errorCase{
		{"conv2d", func(s *engine.Sequence) {
			ops.Conv2DForward(s, newT(1, 4, 5, 5), newT(1, 3, 5, 5), newT(4, 3, 3, 3), 1)
		},
			"conv2d forward: device llvmpipe (LLVM 15.0.6, 128 bits) has subgroups of 4 invocations; the conv2d kernels need at least 8"},
		{"pointwise", func(s *engine.Sequence) {
			ops.PointwiseForward(s, newT(1, 4, 5, 5), newT(1, 3, 5, 5), newT(4, 3, 1, 1))
		},
			"pointwise forward: the kernel needs subgroups of at least 8 invocations"},
	})
}

// TestNarrowSubgroupErrors runs the child on lavapipe with 4-wide subgroups
// (LP_NATIVE_VECTOR_WIDTH=128): conv2d and the 1x1 GEMM, which need 8
// lanes, must refuse that device with their own errors.
func TestNarrowSubgroupErrors(t *testing.T) {
	if os.Getenv(narrowChildEnv) == "1" {
		return
	}
	d := enginetest.Open(t)
	if !strings.Contains(d.Info.Name, "llvmpipe") {
		t.Skipf("needs lavapipe to narrow the subgroups; the device is %s", d.Info.Name)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestNarrowSubgroupChild$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), narrowChildEnv+"=1", "LP_NATIVE_VECTOR_WIDTH=128")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestNarrowSubgroupChild") {
		t.Fatalf("child: %v\n%s", err, out)
	}
}
