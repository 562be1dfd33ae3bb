package engine_test

import (
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/shaders"
)

// TestSelfTest runs the selftest small: every kernel builds and the saxpy
// chain matches Go's float32 arithmetic exactly (a mismatch is an error).
func TestSelfTest(t *testing.T) {
	d := enginetest.Open(t)
	res, err := d.SelfTest(1000, 7)
	if err != nil {
		t.Fatal(err)
	}
	if !res.ExactMatches || res.Kernels != len(shaders.Names()) || res.Dispatches != 7 || res.Floats != 1000 || !(res.GBPerSecond > 0) {
		t.Fatalf("selftest: %+v", res)
	}
	if _, err := d.SelfTest(0, 7); err == nil || !strings.Contains(err.Error(), "at least 1") {
		t.Fatalf("0 floats: %v", err)
	}
	enginetest.Check(t, d)
}
