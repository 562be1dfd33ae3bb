// Command effv2vk trains EfficientNetV2 on any Vulkan GPU.
//
// Run `effv2vk help` for the commands.
package main

import (
	"fmt"
	"os"

	"github.com/effv2vk/effv2vk/dist"
	"github.com/urfave/cli/v2"
)

func main() {
	if err := newApp().Run(os.Args); err != nil {
		fmt.Fprintln(os.Stderr, "effv2vk:", err)
		dist.AbortJob(1) // under mpirun: the other ranks stop too
		os.Exit(1)
	}
	if err := dist.Finalize(); err != nil {
		fmt.Fprintln(os.Stderr, "effv2vk:", err)
		os.Exit(1)
	}
}

// newApp builds the command-line application.
func newApp() *cli.App {
	return &cli.App{
		Name:  "effv2vk",
		Usage: "train EfficientNetV2 with Vulkan compute shaders on any GPU",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "device", Usage: "Vulkan device: index or name substring (default: best GPU)", EnvVars: []string{"EFFV2VK_DEVICE"}},
		},
		Commands: []*cli.Command{
			devicesCommand(),
			selftestCommand(),
			scheduleCommand(),
			summaryCommand(),
			trainCommand(),
			inferCommand(),
			benchCommand(),
			tuneCommand(),
			visualizeCommand(),
			compareCommand(),
			evalCommand(),
			predictCommand(),
			exportCommand(),
		},
	}
}
