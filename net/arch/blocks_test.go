package arch

import (
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

func TestBlocksOfS(t *testing.T) {
	cfg, _ := Lookup(S, 1000)
	blocks := cfg.Blocks()
	if len(blocks) != 40 || cfg.NumBlocks() != 40 {
		t.Fatalf("S has %d blocks (NumBlocks %d), want 40", len(blocks), cfg.NumBlocks())
	}
	for i, b := range blocks {
		if b.ID != i {
			t.Errorf("block %d has ID %d", i, b.ID)
		}
		if err := enginetest.Within(b.DropPath, 0.2*float64(i)/40, 1e-15); err != nil {
			t.Errorf("block %d drop path: %v", i, err)
		}
		if b.Residual != (b.Stride == 1 && b.In == b.Out) {
			t.Errorf("block %s residual %v with stride %d, %d->%d", b.Prefix, b.Residual, b.Stride, b.In, b.Out)
		}
	}
	// First block of stage 4 (features.4.0): MBConv e4 64->128 stride 2, SE from the input width.
	b := blocks[2+4+4]
	want := Block{Stage: 4, Index: 0, ID: 10, Kind: MBConv, In: 64, Out: 128, Expanded: 256, Kernel: 3, Stride: 2,
		Squeeze: 16, Residual: false, DropPath: 0.2 * 10 / 40, Prefix: "features.4.0"}
	if b != want {
		t.Errorf("features.4.0:\n got %+v\nwant %+v", b, want)
	}
	// Second block of that stage keeps 128 channels, stride 1, residual, squeeze 128/4.
	b = blocks[11]
	if b.Prefix != "features.4.1" || b.In != 128 || b.Stride != 1 || !b.Residual || b.Squeeze != 32 || b.Expanded != 512 {
		t.Errorf("features.4.1: %+v", b)
	}
	if blocks[0].Expands() || blocks[0].HasSE() || !blocks[0].Residual {
		t.Errorf("features.1.0 (fused e1, 24->24): %+v", blocks[0])
	}
}

// TestPicoCoversEveryBlockShape: the test model must exercise what the big
// ones use.
func TestPicoCoversEveryBlockShape(t *testing.T) {
	cfg, _ := Lookup(Pico, 10)
	var fusedE1Residual, fusedExpandStride2, fusedExpandResidual, mbStride2, mbResidual, mbNoResidual bool
	for _, b := range cfg.Blocks() {
		switch {
		case b.Kind == FusedMBConv && !b.Expands() && b.Residual:
			fusedE1Residual = true
		case b.Kind == FusedMBConv && b.Expands() && b.Stride == 2:
			fusedExpandStride2 = true
		case b.Kind == FusedMBConv && b.Expands() && b.Residual:
			fusedExpandResidual = true
		case b.Kind == MBConv && b.Stride == 2 && b.HasSE():
			mbStride2 = true
		case b.Kind == MBConv && b.Residual && b.HasSE():
			mbResidual = true
		case b.Kind == MBConv && !b.Residual && b.Stride == 1:
			mbNoResidual = true
		}
	}
	if !(fusedE1Residual && fusedExpandStride2 && fusedExpandResidual && mbStride2 && mbResidual && mbNoResidual) {
		t.Errorf("pico misses a block shape: fused e1 residual %v, fused stride 2 %v, fused residual %v, MBConv stride 2 %v, MBConv residual %v, MBConv width change %v",
			fusedE1Residual, fusedExpandStride2, fusedExpandResidual, mbStride2, mbResidual, mbNoResidual)
	}
}

func TestSqueezeUsesInputChannels(t *testing.T) {
	cfg, _ := Lookup(B0, 1000)
	for _, b := range cfg.Blocks() {
		if b.Kind == MBConv && b.Squeeze != max(1, b.In/4) {
			t.Errorf("%s: squeeze %d for input %d", b.Prefix, b.Squeeze, b.In)
		}
		if b.Kind == FusedMBConv && b.Squeeze != 0 {
			t.Errorf("%s: fused block with SE %d", b.Prefix, b.Squeeze)
		}
	}
}

func TestOutputSize(t *testing.T) {
	b := Block{Kernel: 3, Stride: 2}
	for in, want := range map[int]int{384: 192, 67: 34, 1: 1, 2: 1, 3: 2} {
		if h, w := b.OutputSize(in, in); h != want || w != want {
			t.Errorf("k3 s2 on %d: %dx%d, want %d", in, h, w, want)
		}
	}
	b = Block{Kernel: 5, Stride: 1}
	if h, _ := b.OutputSize(7, 7); h != 7 {
		t.Errorf("k5 s1 keeps the size: got %d", h)
	}
}
