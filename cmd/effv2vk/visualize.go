package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/effv2vk/effv2vk/viz"
)

// visualizeCommand returns `effv2vk visualize`: a window (GLFW + Vulkan
// swapchain, drawn by compute shaders) that follows a training run's output
// directory live, or with --headless an offscreen screenshot of it.
func visualizeCommand() *cli.Command {
	return &cli.Command{
		Name:  "visualize",
		Usage: "watch a training run live: loss, accuracy, LR, samples, feature maps, kernel times",
		UsageText: "effv2vk visualize --run DIR [--width W --height H] [--screenshot FILE.png [--frames N]] [--headless]\n\n" +
			"Keys: q/Esc quit, left/right change the feature-map layer, up/down enlarge one panel.\n" +
			"The window only reads DIR: closing it never affects training.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "run", Required: true, Usage: "the training run's output directory (metrics.jsonl, snapshot.json)"},
			&cli.IntFlag{Name: "width", Value: 800, Usage: "window (or image) width in pixels"},
			&cli.IntFlag{Name: "height", Value: 600, Usage: "window (or image) height in pixels"},
			&cli.StringFlag{Name: "screenshot", Usage: "write what the window shows after --frames frames to this PNG, then exit"},
			&cli.IntFlag{Name: "frames", Value: 1, Usage: "frames to draw before the screenshot"},
			&cli.BoolFlag{Name: "headless", Usage: "draw offscreen (no window, no display needed); requires --screenshot"},
			&cli.BoolFlag{Name: "validate", Usage: "run with the Vulkan validation layer and fail on any message"},
		},
		Action: func(c *cli.Context) error {
			if c.Int("width") < 64 || c.Int("height") < 64 || c.Int("width") > 8192 || c.Int("height") > 8192 {
				return fmt.Errorf("visualize: --width and --height must be within 64..8192 (got %dx%d)", c.Int("width"), c.Int("height"))
			}
			if c.Int("frames") < 1 {
				return fmt.Errorf("visualize: --frames must be at least 1 (got %d)", c.Int("frames"))
			}
			return viz.Show(viz.Options{
				RunDir:     c.String("run"),
				Device:     c.String("device"),
				Width:      c.Int("width"),
				Height:     c.Int("height"),
				Headless:   c.Bool("headless"),
				Screenshot: c.String("screenshot"),
				Frames:     c.Int("frames"),
				Validate:   c.Bool("validate"),
			})
		},
	}
}
