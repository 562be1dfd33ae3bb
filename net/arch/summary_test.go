package arch

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// TestMultiplyAddsMatchTorchvision: torchvision reports 8.366, 24.582 and
// 56.08 GFLOPS (multiply-adds) for S at 384 and M, L at 480.
func TestMultiplyAddsMatchTorchvision(t *testing.T) {
	cases := []struct {
		name string
		size int
		want float64
	}{{S, 384, 8.366e9}, {M, 480, 24.582e9}, {L, 480, 56.08e9}, {B0, 224, 0.72e9}, {B3, 300, 3.0e9}}
	for _, c := range cases {
		cfg, _ := Lookup(c.name, 1000)
		sum, err := cfg.Summary(c.size)
		if err != nil {
			t.Fatal(err)
		}
		if err := enginetest.WithinRel(float64(sum.MultiplyAdds), c.want, 0.02, 0); err != nil {
			t.Errorf("%s at %d: multiply-adds: %v", c.name, c.size, err)
		}
	}
}

func TestSummaryRows(t *testing.T) {
	cfg, _ := Lookup(S, 1000)
	sum, err := cfg.Summary(384)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Rows) != 1+6+2 {
		t.Fatalf("%d rows, want stem + 6 stages + head + classifier", len(sum.Rows))
	}
	var params int
	var madds int64
	for _, r := range sum.Rows {
		params += r.Params
		madds += r.MultiplyAdds
	}
	if params != sum.Params || params != cfg.ParamCount() || madds != sum.MultiplyAdds {
		t.Errorf("rows sum to %d params, %d multiply-adds; totals %d, %d; ParamCount %d", params, madds, sum.Params, sum.MultiplyAdds, cfg.ParamCount())
	}
	if sum.Buffers != cfg.BufferCount() || sum.Buffers == 0 {
		t.Errorf("buffers %d, BufferCount %d", sum.Buffers, cfg.BufferCount())
	}
	wantShapes := [][]int{{24, 192, 192}, {24, 192, 192}, {48, 96, 96}, {64, 48, 48}, {128, 24, 24}, {160, 24, 24}, {256, 12, 12}, {1280, 12, 12}, {1000}}
	for i, r := range sum.Rows {
		if !equalInts(r.OutputShape, wantShapes[i]...) {
			t.Errorf("row %d (%s): output %v, want %v", i, r.Operator, r.OutputShape, wantShapes[i])
		}
	}
	// Stem: 192*192 outputs * 24 channels * 3*3*3.
	if got := sum.Rows[0].MultiplyAdds; got != 192*192*24*27 {
		t.Errorf("stem multiply-adds %d", got)
	}
	if r := sum.Rows[4]; r.Operator != "MBConv4 k3x3 SE" || r.Repeats != 6 || r.Stride != 2 || r.In != 64 || r.Out != 128 {
		t.Errorf("stage 4 row %+v", r)
	}
}

func TestSummaryRejectsBadSize(t *testing.T) {
	cfg, _ := Lookup(Pico, 10)
	for _, size := range []int{0, -3} {
		if _, err := cfg.Summary(size); err == nil || !strings.Contains(err.Error(), fmt.Sprint(size)) {
			t.Errorf("size %d: got %v", size, err)
		}
	}
	if _, err := cfg.Summary(1); err != nil {
		t.Errorf("a 1x1 image is small but valid: %v", err)
	}
}

func TestSummaryTextAndJSON(t *testing.T) {
	cfg, _ := Lookup(S, 1000)
	sum, _ := cfg.Summary(384)
	text := sum.String()
	for _, want := range []string{"params: 21458488 (21.46M)", "multiply-adds: ", "Fused-MBConv4 k3x3", "1280x12x12", "efficientnetv2-s"} {
		if !strings.Contains(text, want) {
			t.Errorf("text lacks %q:\n%s", want, text)
		}
	}
	data, err := json.Marshal(sum)
	if err != nil {
		t.Fatal(err)
	}
	var back Summary
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if back.Params != sum.Params || back.MultiplyAdds != sum.MultiplyAdds || len(back.Rows) != len(sum.Rows) || back.Rows[3].Operator != sum.Rows[3].Operator {
		t.Errorf("JSON round trip lost data: %s", data)
	}
	if !strings.Contains(string(data), `"multiply_adds":`) || !strings.Contains(string(data), `"output_shape":[24,192,192]`) {
		t.Errorf("JSON field names: %s", data)
	}
}
