package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/effv2vk/effv2vk/viz"
)

// compareCommand returns `effv2vk compare`: the test top-1 of several runs
// against wall time and against epochs, in one PNG drawn offscreen by the
// window's renderer.
func compareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "chart several runs' test top-1 against wall time and against epochs, as a PNG (headless)",
		UsageText: "effv2vk compare RUN... --output FILE.png [--width W --height H]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Usage: "the PNG file to write (required; may follow the runs)"},
			&cli.IntFlag{Name: "width", Value: 1000, Usage: "image width in pixels"},
			&cli.IntFlag{Name: "height", Value: 700, Usage: "image height in pixels"},
			&cli.BoolFlag{Name: "validate", Usage: "run with the Vulkan validation layer and fail on any message"},
		},
		Action: func(c *cli.Context) error {
			runs, err := setTrailingFlags(c)
			if err != nil {
				return err
			}
			if len(runs) == 0 {
				return fmt.Errorf("compare: no runs given: effv2vk compare RUN_DIR... --output FILE.png")
			}
			if c.String("output") == "" {
				return fmt.Errorf("compare: no output file: give --output FILE.png")
			}
			if c.Int("width") < 200 || c.Int("height") < 200 || c.Int("width") > 8192 || c.Int("height") > 8192 {
				return fmt.Errorf("compare: --width and --height must be within 200..8192 (got %dx%d)", c.Int("width"), c.Int("height"))
			}
			return viz.Compare(viz.CompareOptions{
				RunDirs:  runs,
				Output:   c.String("output"),
				Device:   c.String("device"),
				Width:    c.Int("width"),
				Height:   c.Int("height"),
				Validate: c.Bool("validate"),
			})
		},
	}
}

// setTrailingFlags sets the flags written after the positional arguments
// (`compare A B --output F.png`: the flag parser stops at A) and returns the
// positional arguments.
func setTrailingFlags(c *cli.Context) ([]string, error) {
	var positional []string
	args := c.Args().Slice()
	for i := 0; i < len(args); i++ {
		a := args[i]
		if !strings.HasPrefix(a, "-") || a == "-" {
			positional = append(positional, a)
			continue
		}
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		switch name {
		case "validate":
			if !hasValue {
				value = "true"
			}
		case "output", "width", "height":
			if !hasValue {
				if i+1 >= len(args) {
					return nil, fmt.Errorf("compare: flag --%s needs a value", name)
				}
				i++
				value = args[i]
			}
		default:
			return nil, fmt.Errorf("compare: unknown flag %s (see effv2vk compare --help)", a)
		}
		if err := c.Set(name, value); err != nil {
			return nil, fmt.Errorf("compare: --%s %q: %w", name, value, err)
		}
	}
	return positional, nil
}
