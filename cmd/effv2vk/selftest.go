package main

import (
	"fmt"
	"time"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/urfave/cli/v2"
)

func selftestCommand() *cli.Command {
	return &cli.Command{
		Name:  "selftest",
		Usage: "build every kernel and run a saxpy chain on the device, checked against Go",
		Action: func(c *cli.Context) error {
			return withDevice(c.String("device"), selftest)
		},
	}
}

// selftest builds every kernel on d, runs the saxpy chain and prints both.
func selftest(d *engine.Device) error {
	fmt.Printf("device: %s (%s)\n", d.Info.Name, d.Info.Type)
	res, err := d.SelfTest(1<<20, 50)
	if res.Kernels > 0 {
		fmt.Printf("built %d kernels in %v\n", res.Kernels, res.BuildTime.Round(time.Millisecond))
	}
	if err != nil {
		return err
	}
	fmt.Printf("saxpy chain: %d dispatches over %d floats in %v (%.2f GB/s), results match Go exactly\n",
		res.Dispatches, res.Floats, res.ChainTime.Round(time.Microsecond), res.GBPerSecond)
	return nil
}
