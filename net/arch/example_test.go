package arch_test

import (
	"fmt"
	"os"

	"github.com/effv2vk/effv2vk/net/arch"
)

func ExampleConfig_Summary() {
	cfg, err := arch.Lookup(arch.Pico, 10)
	if err != nil {
		fmt.Println(err)
		return
	}
	sum, err := cfg.Summary(64)
	if err != nil {
		fmt.Println(err)
		return
	}
	_ = sum.Format(os.Stdout)
	// Output:
	// model efficientnetv2-pico, input 3x64x64, 10 classes
	//   stage            operator   in  out  stride  layers    output  params  mult-adds
	//       0             Conv3x3    3   16       2       1  16x32x32     464    442.37K
	//       1  Fused-MBConv1 k3x3   16   16       1       1  16x32x32   2.34K      2.36M
	//       2  Fused-MBConv4 k3x3   16   24       2       2  24x16x16  34.21K      8.65M
	//       3     MBConv4 k3x3 SE   24   48       2       2    48x8x8  35.35K      2.24M
	//       4     MBConv6 k3x3 SE   48   64       1       1    64x8x8  43.34K      2.24M
	//       5             Conv1x1   64  256       1       1   256x8x8  16.90K      1.05M
	//       6         Pool+Linear  256   10       1       1        10   2.57K      2.56K
	// params: 135160 (135.16K)
	// buffers: 3632
	// multiply-adds: 16976768 (16.98M)
}

func ExampleConfig_Blocks() {
	cfg, _ := arch.Lookup(arch.Pico, 10)
	for _, b := range cfg.Blocks() {
		fmt.Printf("%s %v %d->%d stride %d residual %v drop %.3f\n", b.Prefix, b.Kind, b.In, b.Out, b.Stride, b.Residual, b.DropPath)
	}
	// Output:
	// features.1.0 Fused-MBConv 16->16 stride 1 residual true drop 0.000
	// features.2.0 Fused-MBConv 16->24 stride 2 residual false drop 0.033
	// features.2.1 Fused-MBConv 24->24 stride 1 residual true drop 0.067
	// features.3.0 MBConv 24->48 stride 2 residual false drop 0.100
	// features.3.1 MBConv 48->48 stride 1 residual true drop 0.133
	// features.4.0 MBConv 48->64 stride 1 residual false drop 0.167
}
