package ops_test

import (
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
)

// TestRunBench times the smallest registered case once: the result names
// it, holds one run and a throughput that follows from the case's work.
func TestRunBench(t *testing.T) {
	d := enginetest.Open(t)
	cases := ops.BenchCases()
	if len(cases) == 0 {
		t.Fatal("no bench cases registered")
	}
	small := cases[0]
	for _, c := range cases {
		if c.Work < small.Work {
			small = c
		}
	}
	r, err := ops.RunBench(d, small, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.Name != small.Name || len(r.RunsMs) != 1 || r.MedianMs != r.RunsMs[0] || !(r.MedianMs >= 0) {
		t.Fatalf("result %+v for case %s", r, small.Name)
	}
	if r.MedianMs > 0 {
		if want := small.Work / (r.MedianMs / 1000) / 1e9; r.Throughput != want {
			t.Errorf("throughput %v, want %v", r.Throughput, want)
		}
	}
	if _, err := ops.RunBench(d, small, 0); err == nil || !strings.Contains(err.Error(), "at least 1") {
		t.Fatalf("0 runs: %v", err)
	}
	enginetest.Check(t, d)
}
