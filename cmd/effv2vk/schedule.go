package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/effv2vk/effv2vk/progressive"
)

// scheduleCommand returns `effv2vk schedule`: it prints a model's
// progressive-learning schedule (per stage: epochs, image size, RandAugment
// magnitude, Mixup alpha, dropout) as an aligned table or as JSON.
func scheduleCommand() *cli.Command {
	return &cli.Command{
		Name:      "schedule",
		Usage:     "print a model's progressive-learning schedule (image size and regularization per stage)",
		UsageText: "effv2vk schedule --model NAME --epochs E [--stages M] [--min-size PX --max-size PX] [--formula paper|official] [--json]",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "model", Required: true, Usage: "model preset: " + strings.Join(progressive.Names(), ", ")},
			&cli.IntFlag{Name: "epochs", Required: true, DefaultText: "none", Usage: "total training epochs (at least the number of stages)"},
			&cli.IntFlag{Name: "stages", DefaultText: "the preset's", Usage: "number of stages (1 turns progressive learning off)"},
			&cli.IntFlag{Name: "min-size", DefaultText: "the preset's", Usage: "first stage's image size in pixels"},
			&cli.IntFlag{Name: "max-size", DefaultText: "the preset's", Usage: "last stage's image size in pixels"},
			&cli.StringFlag{Name: "formula", Value: progressive.Paper.String(), Usage: "paper (Algorithm 1) or official (google/automl code)"},
			&cli.BoolFlag{Name: "json", Usage: "print JSON instead of a table"},
		},
		Action: runSchedule,
	}
}

// runSchedule plans the schedule the flags describe and prints it.
func runSchedule(c *cli.Context) error {
	preset, err := progressive.PresetFor(c.String("model"))
	if err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	formula, err := progressive.ParseFormula(c.String("formula"))
	if err != nil {
		return fmt.Errorf("schedule: --formula: %w", err)
	}
	preset = preset.WithFormula(formula)
	if c.IsSet("stages") {
		preset = preset.WithStages(c.Int("stages"))
	}
	minSize, maxSize := preset.ImageSize.Min, preset.ImageSize.Max
	if c.IsSet("min-size") {
		minSize = c.Int("min-size")
	}
	if c.IsSet("max-size") {
		maxSize = c.Int("max-size")
	}
	preset = preset.WithImageSize(minSize, maxSize)
	schedule, err := progressive.Plan(preset, c.Int("epochs"))
	if err != nil {
		return fmt.Errorf("schedule: %w", err)
	}
	if c.Bool("json") {
		return schedule.WriteJSON(c.App.Writer)
	}
	return schedule.WriteTable(c.App.Writer)
}
