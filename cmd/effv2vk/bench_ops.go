package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/urfave/cli/v2"
)

func benchOpsCommand() *cli.Command {
	return &cli.Command{
		Name:  "ops",
		Usage: "time each kernel at EfficientNetV2-S layer shapes (batch 8, 128x128): GFLOP/s or GB/s",
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.IntFlag{Name: "runs", Value: ops.DefaultBenchTiming.Runs, Usage: "timed runs per kernel, at least (the median is reported)"},
			&cli.DurationFlag{Name: "min-time", Value: ops.DefaultBenchTiming.MinTime, Usage: "time each kernel for at least this long (more runs, up to 1000 or --runs; 0: --runs runs)"},
			&cli.DurationFlag{Name: "warm-up", Value: ops.DefaultBenchTiming.WarmUp, Usage: "untimed runs of each kernel first, for at least this long (0: one run)"},
			&cli.StringFlag{Name: "only", Usage: "run only cases whose name or family contains this"},
			&cli.BoolFlag{Name: "gemm", Usage: "also time the shared-memory GEMM family's twins of the linear, 1x1 and 3x3 rows (family gemm; slow on CPU drivers)"},
		},
		Action: func(c *cli.Context) error {
			bt := ops.BenchTiming{Runs: c.Int("runs"), MinTime: c.Duration("min-time"), WarmUp: c.Duration("warm-up")}
			if bt.Runs < 1 {
				return fmt.Errorf("--runs %d: need at least 1", bt.Runs)
			}
			if bt.MinTime < 0 {
				return fmt.Errorf("--min-time %v: cannot be negative (0s times exactly --runs runs)", bt.MinTime)
			}
			if bt.WarmUp < 0 {
				return fmt.Errorf("--warm-up %v: cannot be negative (0s warms up with one run)", bt.WarmUp)
			}
			return withDevice(c.String("device"), func(d *engine.Device) error { return benchOps(c, d, bt) })
		},
	}
}

// benchOps times the registered kernel cases on d and prints the table.
func benchOps(c *cli.Context, d *engine.Device, bt ops.BenchTiming) error {
	var results []ops.BenchResult
	cases := ops.BenchCases()
	if len(cases) == 0 {
		return fmt.Errorf("no benchmark cases registered")
	}
	for i, bc := range cases {
		if f := c.String("only"); f != "" && !contains(bc.Name, f) && !contains(bc.Op, f) {
			continue
		}
		if bc.Op == "gemm" && !c.Bool("gemm") && !contains(c.String("only"), "gemm") {
			continue // opt-in: --gemm, or --only gemm
		}
		if !c.Bool("json") {
			fmt.Fprintf(os.Stderr, "\r[%d/%d] %-50s", i+1, len(cases), bc.Name)
		}
		r, err := ops.RunBench(d, bc, bt)
		if err != nil {
			return fmt.Errorf("bench %s: %w", bc.Name, err)
		}
		results = append(results, r)
	}
	if c.Bool("json") {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Device  string            `json:"device"`
			Results []ops.BenchResult `json:"results"`
		}{d.Info.Name, results})
	}
	fmt.Fprintf(os.Stderr, "\r%-60s\r", "")
	fmt.Printf("device: %s, median of at least %d runs and %v per kernel, after %v of warm-up runs\n", d.Info.Name, bt.Runs, bt.MinTime, bt.WarmUp)
	fmt.Printf("%-12s %-44s %10s %14s\n", "op", "case", "ms", "throughput")
	for _, r := range results {
		fmt.Printf("%-12s %-44s %10.3f %9.2f %s\n", r.Op, r.Name, r.MedianMs, r.Throughput, r.Unit)
	}
	return nil
}

func contains(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
