package ops_test

import (
	"strings"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/ops"
)

// TestRunBench times the smallest registered case once: the result names
// it, holds one run and a throughput that follows from the case's work;
// then for a least time, and refuses zero runs and negative times.
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
	r, err := ops.RunBench(d, small, ops.BenchTiming{Runs: 1})
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
	if _, err := ops.RunBench(d, small, ops.BenchTiming{}); err == nil || !strings.Contains(err.Error(), "at least 1") {
		t.Fatalf("0 runs: %v", err)
	}
	// With a least time the runs go on past Runs until their times add up
	// to it (each run's time is what RunsMs holds).
	const minTime = 30 * time.Millisecond
	r, err = ops.RunBench(d, small, ops.BenchTiming{Runs: 2, MinTime: minTime, WarmUp: 5 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	total := 0.0
	for _, ms := range r.RunsMs {
		total += ms
	}
	if len(r.RunsMs) < 2 || (total < float64(minTime.Milliseconds())-0.001*float64(len(r.RunsMs)) && len(r.RunsMs) < 1000) {
		t.Fatalf("%d runs of %.3f ms in all: want at least 2 and %v (or 1000 runs)", len(r.RunsMs), total, minTime)
	}
	if _, err := ops.RunBench(d, small, ops.BenchTiming{Runs: 1, MinTime: -time.Second}); err == nil || !strings.Contains(err.Error(), "negative") {
		t.Fatalf("negative time: %v", err)
	}
	enginetest.Check(t, d)
}
