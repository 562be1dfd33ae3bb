package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/urfave/cli/v2"
)

func devicesCommand() *cli.Command {
	return &cli.Command{
		Name:  "devices",
		Usage: "list the Vulkan devices and the one the default choice picks",
		Flags: []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print JSON"}},
		Action: func(c *cli.Context) error {
			devs, pick, err := engine.ListDevices()
			if err != nil {
				return err
			}
			if sel := c.String("device"); sel != "" {
				if pick, err = engine.SelectDevice(devs, sel); err != nil {
					return err
				}
			}
			if c.Bool("json") {
				enc := json.NewEncoder(os.Stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					Devices  []engine.DeviceInfo `json:"devices"`
					Selected int                 `json:"selected"`
				}{devs, pick})
			}
			for _, d := range devs {
				mark := " "
				if d.Index == pick {
					mark = "*"
				}
				fmt.Printf("%s %d: %s\n", mark, d.Index, d.Name)
				fmt.Printf("    vendor %s, type %s, Vulkan %s\n", d.Vendor, d.Type, d.APIVersion)
				var heaps []string
				for _, h := range d.Heaps {
					kind := "host"
					if h.DeviceLocal {
						kind = "device-local"
					}
					heaps = append(heaps, fmt.Sprintf("%.1f GiB %s", float64(h.Size)/(1<<30), kind))
				}
				fmt.Printf("    memory heaps: %s\n", strings.Join(heaps, ", "))
				fmt.Printf("    subgroup size %d (%d to %d), max workgroup %v (%d invocations), maxStorageBufferRange %d MiB\n",
					d.SubgroupSize, d.MinSubgroupSize, d.MaxSubgroupSize, d.MaxWorkgroupSize, d.MaxWorkgroupInvocation, d.MaxStorageBufferRange>>20)
				fmt.Printf("    float16 %v, int8 %v, float64 %v, timestamps %v\n", d.Float16, d.Int8, d.Float64, d.TimestampsOnCompute)
				if !d.Supported {
					fmt.Printf("    not supported: %s\n", d.Unsupported)
				}
			}
			if pick >= 0 {
				fmt.Printf("selected (*): %d %s (choose with --device or EFFV2VK_DEVICE)\n", pick, devs[pick].Name)
			} else {
				fmt.Println("no supported device")
			}
			return nil
		},
	}
}
