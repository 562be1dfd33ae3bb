package engine_test

import (
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// TestRequiredSubgroupSize builds a pipeline that requires the device's
// subgroup size (and full subgroups) where VK_EXT_subgroup_size_control
// allows it, runs it under validation (which reports a requirement whose
// feature was not enabled at device creation) and checks what the
// invocations saw: that size, and subgroup slots (subgroup id x size +
// invocation id) that number the workgroup 0..L-1 without gaps, which the
// convolution kernels' 8-lane clusters rely on.
func TestRequiredSubgroupSize(t *testing.T) {
	d := enginetest.Open(t)
	info := d.Info
	t.Logf("%s: subgroup size %d (range %d-%d), required size %v, full subgroups %v",
		info.Name, info.SubgroupSize, info.MinSubgroupSize, info.MaxSubgroupSize, info.RequiredSubgroupSize, info.FullSubgroups)
	size := info.SubgroupSize
	local := max(64, size)
	k, err := d.KernelWithSubgroupSize("subgroup_probe", size, engine.Spec{ID: 0, Value: local})
	if err != nil {
		t.Fatal(err)
	}
	if info.RequiredSubgroupSize != (k.SubgroupSize == size) || k.FullSubgroups != info.FullSubgroups {
		t.Fatalf("kernel requires subgroup size %d (full %v); the device allows a required size: %v, full subgroups: %v", k.SubgroupSize, k.FullSubgroups, info.RequiredSubgroupSize, info.FullSubgroups)
	}
	out, err := d.NewTensor("probe", engine.Uint32, 3*int(local))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Free()
	seq, err := d.NewSequence("probe", engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Release()
	seq.Dispatch(k, engine.Grid{X: 1, Y: 1, Z: 1}, nil, out)
	if err := d.Run(seq); err != nil {
		t.Fatal(err)
	}
	raw := make([]uint32, 3*local)
	if err := out.Download(raw); err != nil {
		t.Fatal(err)
	}
	seen := make([]bool, local)
	for i := range int(local) {
		got := func(j int) uint32 { return raw[3*i+j] }
		if got(0) != size {
			t.Fatalf("invocation %d ran in a subgroup of %d, want %d", i, got(0), size)
		}
		slot := got(1)*size + got(2)
		if slot >= local || seen[slot] {
			t.Fatalf("invocation %d: subgroup %d lane %d gives slot %d, out of range or taken twice", i, got(1), got(2), slot)
		}
		seen[slot] = true
	}
	if msgs := d.ValidationMessages(); len(msgs) > 0 {
		t.Fatalf("validation: %s", strings.Join(msgs, "\n"))
	}
}

// TestRequiredSubgroupSizeRefused checks that a size the device cannot
// give is refused with a clear error where sizes can be required.
func TestRequiredSubgroupSizeRefused(t *testing.T) {
	d := enginetest.Open(t)
	if !d.Info.RequiredSubgroupSize {
		t.Skipf("%s cannot require a subgroup size (nothing to refuse)", d.Info.Name)
	}
	for _, size := range []uint32{d.Info.MaxSubgroupSize * 2, 3} {
		_, err := d.KernelWithSubgroupSize("subgroup_probe", size)
		if err == nil || !strings.Contains(err.Error(), "is not one the device offers") {
			t.Errorf("subgroup size %d: got %v, want a refusal", size, err)
		}
	}
}
