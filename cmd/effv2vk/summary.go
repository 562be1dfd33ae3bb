package main

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/effv2vk/effv2vk/net/arch"
)

// summaryCommand is `effv2vk summary`: the per-stage table of a model's
// shapes, parameters and multiply-adds, as text or JSON.
func summaryCommand() *cli.Command {
	return &cli.Command{
		Name:  "summary",
		Usage: "print a model's per-stage shapes, parameters and multiply-adds",
		Description: "Prints one row per stage (stem, block stages, head, classifier) and the totals, " +
			"including a line \"params: N\" with the trainable parameter count.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "model name (" + strings.Join(arch.Names(), ", ") + ")", Required: true},
			&cli.IntFlag{Name: "classes", Usage: "classifier outputs", Value: 1000},
			&cli.IntFlag{Name: "image-size", Usage: "square input size in pixels", DefaultText: "the model's evaluation size"},
			&cli.BoolFlag{Name: "json", Usage: "print the summary as JSON"},
		},
		Action: func(c *cli.Context) error {
			cfg, err := arch.Lookup(c.String("model"), c.Int("classes"))
			if err != nil {
				return err
			}
			size := cfg.EvalSize
			if c.IsSet("image-size") {
				size = c.Int("image-size")
			}
			sum, err := cfg.Summary(size)
			if err != nil {
				return err
			}
			out := c.App.Writer
			if c.Bool("json") {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(sum); err != nil {
					return fmt.Errorf("summary: write JSON: %w", err)
				}
				return nil
			}
			if err := sum.Format(out); err != nil {
				return fmt.Errorf("summary: write table: %w", err)
			}
			return nil
		},
	}
}
