package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/ops"
	"github.com/effv2vk/effv2vk/progressive"
	"github.com/effv2vk/effv2vk/shaders"
	"github.com/effv2vk/effv2vk/train"
)

// runCLIOutput runs the CLI in this process and returns what it wrote to the
// app's writer (the commands that print through it: summary, schedule).
func runCLIOutput(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	err := app.Run(append([]string{"effv2vk"}, args...))
	return out.String(), err
}

// needDevice skips t when this machine has no Vulkan driver, except under
// CI=true, where the commands must find one.
func needDevice(t *testing.T) {
	t.Helper()
	if os.Getenv("CI") == "true" || os.Getenv("VK_DRIVER_FILES") != "" {
		return
	}
	if _, _, err := engine.ListDevices(); err != nil {
		t.Skipf("no Vulkan device: %v", err)
	}
}

// TestSummaryCommand checks `effv2vk summary`: the parameter counts the
// README quotes (torchvision's), and for pico that the rows' parameters add
// up to the model's trainable parameters and the stages run in order to the
// classifier.
func TestSummaryCommand(t *testing.T) {
	for model, want := range map[string]int{"efficientnetv2-s": 21458488, "efficientnetv2-m": 54139356, "efficientnetv2-l": 118515272} {
		out, err := runCLIOutput(t, "summary", "--model", model)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, fmt.Sprintf("params: %d ", want)) {
			t.Errorf("summary --model %s does not say params: %d:\n%s", model, want, out)
		}
	}
	out, err := runCLIOutput(t, "summary", "--model", "efficientnetv2-pico", "--classes", "10", "--image-size", "32", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var sum struct {
		Model     string `json:"model"`
		ImageSize int    `json:"image_size"`
		Classes   int    `json:"classes"`
		Rows      []struct {
			Stage       int    `json:"stage"`
			Out         int    `json:"out"`
			OutputShape []int  `json:"output_shape"`
			Params      int    `json:"params"`
			Operator    string `json:"operator"`
		} `json:"rows"`
	}
	if err := json.Unmarshal([]byte(out), &sum); err != nil {
		t.Fatalf("summary --json: %v\n%s", err, out)
	}
	trainable := 0
	for _, p := range mustLookup(t, "efficientnetv2-pico", 10).Params() {
		if p.Trainable {
			trainable += p.Elements()
		}
	}
	total := 0
	for i, r := range sum.Rows {
		if r.Stage != i {
			t.Errorf("row %d is stage %d", i, r.Stage)
		}
		total += r.Params
	}
	if sum.Model != "efficientnetv2-pico" || sum.ImageSize != 32 || sum.Classes != 10 || len(sum.Rows) != 7 {
		t.Fatalf("summary --json: model %q, size %d, %d classes, %d rows; want efficientnetv2-pico, 32, 10, 7 rows", sum.Model, sum.ImageSize, sum.Classes, len(sum.Rows))
	}
	if total != trainable {
		t.Errorf("the rows' parameters add up to %d, the model has %d trainable", total, trainable)
	}
	if first, last := sum.Rows[0], sum.Rows[len(sum.Rows)-1]; first.OutputShape[1] != 16 || last.Out != 10 {
		t.Errorf("stem output %v (want 16x16 from 32x32 at stride 2), classifier out %d (want 10)", first.OutputShape, last.Out)
	}
	if _, err := runCLIOutput(t, "summary", "--model", "efficientnetv2-x"); err == nil || !strings.Contains(err.Error(), "efficientnetv2-x") {
		t.Errorf("summary of an unknown model: %v", err)
	}
}

// TestScheduleCommand checks `effv2vk schedule` for EfficientNetV2-S over
// 350 epochs in 4 stages: contiguous stages covering every epoch, image
// size and regularization rising from the paper's Table 6 minimum (128,
// RandAugment 5, dropout 0.1) to its maximum (300, 15, 0.3), and the table
// showing the same stages.
func TestScheduleCommand(t *testing.T) {
	out, err := runCLIOutput(t, "schedule", "--model", "efficientnetv2-s", "--epochs", "350", "--stages", "4", "--json")
	if err != nil {
		t.Fatal(err)
	}
	var sched struct {
		Epochs int                 `json:"epochs"`
		Stages []progressive.Stage `json:"stages"`
	}
	if err := json.Unmarshal([]byte(out), &sched); err != nil {
		t.Fatalf("schedule --json: %v\n%s", err, out)
	}
	if sched.Epochs != 350 || len(sched.Stages) != 4 {
		t.Fatalf("schedule --json: %d epochs in %d stages, want 350 in 4", sched.Epochs, len(sched.Stages))
	}
	next := 0
	for i, s := range sched.Stages {
		if s.FirstEpoch != next || s.Epochs < 87 || s.Epochs > 88 {
			t.Errorf("stage %d: epochs %d from %d, want about 350/4 from %d", i, s.Epochs, s.FirstEpoch, next)
		}
		next = s.FirstEpoch + s.Epochs
		if i > 0 {
			p := sched.Stages[i-1]
			if !(s.ImageSize > p.ImageSize && s.RandAugmentMagnitude > p.RandAugmentMagnitude && s.Dropout > p.Dropout) {
				t.Errorf("stage %d does not raise size and regularization over stage %d: %+v after %+v", i, i-1, s, p)
			}
		}
	}
	first, last := sched.Stages[0], sched.Stages[3]
	if next != 350 || first.ImageSize != 128 || last.ImageSize != 300 || first.RandAugmentMagnitude != 5 ||
		last.RandAugmentMagnitude != 15 || first.Dropout != 0.1 || last.Dropout != 0.3 || last.MixupAlpha != 0 {
		t.Errorf("schedule: epochs end at %d, first stage %+v, last %+v; want 350 epochs, 128 -> 300, RandAugment 5 -> 15, dropout 0.1 -> 0.3, no mixup (Table 6)", next, first, last)
	}
	table, err := runCLIOutput(t, "schedule", "--model", "efficientnetv2-s", "--epochs", "350", "--stages", "4")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sched.Stages {
		row := regexp.MustCompile(fmt.Sprintf(`(?m)^\s+%d\s+%d-%d\s+%d\s`, s.Index, s.FirstEpoch, s.FirstEpoch+s.Epochs-1, s.ImageSize))
		if !row.MatchString(table) {
			t.Errorf("the table has no row for stage %d (epochs %d-%d, size %d):\n%s", s.Index, s.FirstEpoch, s.FirstEpoch+s.Epochs-1, s.ImageSize, table)
		}
	}
	if _, err := runCLIOutput(t, "schedule", "--model", "efficientnetv2-s", "--epochs", "3", "--stages", "4"); err == nil || !strings.Contains(err.Error(), "epochs") {
		t.Errorf("3 epochs in 4 stages: %v, want an error about the epochs", err)
	}
}

// TestDevicesCommand runs `effv2vk devices` with and without --json: the
// JSON lists at least one supported device and selects one of them, and
// the text marks the same device with * and names it as selected.
func TestDevicesCommand(t *testing.T) {
	needDevice(t)
	out, _ := runChild(t, "devices", "--json")
	var list struct {
		Devices  []engine.DeviceInfo `json:"devices"`
		Selected int                 `json:"selected"`
	}
	if err := json.Unmarshal([]byte(out), &list); err != nil {
		t.Fatalf("devices --json: %v\n%s", err, out)
	}
	if len(list.Devices) == 0 || list.Selected < 0 || list.Selected >= len(list.Devices) {
		t.Fatalf("devices --json: %d devices, selected %d", len(list.Devices), list.Selected)
	}
	pick := list.Devices[list.Selected]
	if !pick.Supported || pick.Name == "" || pick.SubgroupSize < 1 || pick.MaxStorageBufferRange == 0 || len(pick.Heaps) == 0 {
		t.Errorf("the selected device lacks what the listing promises: %+v", pick)
	}
	text, _ := runChild(t, "devices")
	if !strings.Contains(text, fmt.Sprintf("* %d: %s\n", pick.Index, pick.Name)) ||
		!strings.Contains(text, fmt.Sprintf("selected (*): %d %s", pick.Index, pick.Name)) {
		t.Errorf("devices does not mark %d %q as selected:\n%s", pick.Index, pick.Name, text)
	}
	if !strings.Contains(text, fmt.Sprintf("subgroup size %d", pick.SubgroupSize)) {
		t.Errorf("devices does not show the subgroup size %d:\n%s", pick.SubgroupSize, text)
	}
}

// TestSelftestCommand runs `effv2vk selftest`: it must build every kernel
// of the index and report the saxpy chain exact.
func TestSelftestCommand(t *testing.T) {
	needDevice(t)
	out, _ := runChild(t, "selftest")
	m := regexp.MustCompile(`built (\d+) kernels`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("selftest does not say how many kernels it built:\n%s", out)
	}
	if n, _ := strconv.Atoi(m[1]); n != len(shaders.Names()) {
		t.Errorf("selftest built %d kernels, the index has %d", n, len(shaders.Names()))
	}
	if !strings.Contains(out, "saxpy chain: 50 dispatches") || !strings.Contains(out, "results match Go exactly") {
		t.Errorf("selftest does not report the saxpy chain exact:\n%s", out)
	}
}

// TestBenchCommand runs `effv2vk bench` on a tiny model and `bench ops` on
// one small case, checking the reports' content (not their speed).
func TestBenchCommand(t *testing.T) {
	needDevice(t)
	out, _ := runChild(t, "bench", "--model", "efficientnetv2-pico", "--classes", "10", "--batch-size", "2",
		"--image-size", "32", "--steps", "1", "--json")
	var res train.ModelBench
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("bench --json: %v\n%s", err, out)
	}
	if res.Model != "efficientnetv2-pico" || res.Batch != 2 || res.ImageSize != 32 || res.Classes != 10 || res.Steps != 1 {
		t.Errorf("bench reports %s batch %d size %d, %d classes, %d steps; want what was asked", res.Model, res.Batch, res.ImageSize, res.Classes, res.Steps)
	}
	if !(res.TrainStepMs > 0 && res.ForwardMs > 0 && res.PeakMemoryMiB > 0 && res.ForwardMemoryMiB > 0 && res.Dispatches > 0) {
		t.Errorf("bench reports an empty measurement: %+v", res)
	}
	if res.ForwardBuffers < 1 || res.ForwardBuffers >= res.ForwardActivations {
		t.Errorf("forward graph: %d activations in %d buffers, want reuse", res.ForwardActivations, res.ForwardBuffers)
	}
	known := map[string]bool{}
	for _, n := range shaders.Names() {
		known[n] = true
	}
	counted := 0
	for _, k := range res.Kernels {
		counted += k.Count
	}
	if len(res.Kernels) == 0 || counted != res.Dispatches {
		t.Fatalf("bench --json lists %d kernels with %d dispatches, want every one of the step's %d", len(res.Kernels), counted, res.Dispatches)
	}
	text, _ := runChild(t, "bench", "--model", "efficientnetv2-pico", "--classes", "10", "--batch-size", "2",
		"--image-size", "32", "--steps", "1", "--kernels", "3")
	if want := fmt.Sprintf("(GPU timestamps; 3 of %d, --kernels 0 lists all)", len(res.Kernels)); !strings.Contains(text, want) {
		t.Errorf("bench --kernels 3 does not say %q:\n%s", want, text)
	}
	for i, k := range res.Kernels {
		if !known[k.Name] || k.Count < 1 {
			t.Errorf("kernel row %+v: not a kernel of the index or never run", k)
		}
		if i > 0 && k.TotalMs > res.Kernels[i-1].TotalMs {
			t.Errorf("kernel rows not sorted by time: %v after %v ms", k.TotalMs, res.Kernels[i-1].TotalMs)
		}
	}

	// --min-time 0s --warm-up 0s: exactly --runs timed runs (by default
	// they go on for 200 ms).
	out, _ = runChild(t, "bench", "ops", "--only", "drop path", "--runs", "1", "--min-time", "0s", "--warm-up", "0s", "--json")
	var ops struct {
		Device  string            `json:"device"`
		Results []ops.BenchResult `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &ops); err != nil {
		t.Fatalf("bench ops --json: %v\n%s", err, out)
	}
	if ops.Device == "" || len(ops.Results) == 0 {
		t.Fatalf("bench ops --only 'drop path': device %q, %d results", ops.Device, len(ops.Results))
	}
	for _, r := range ops.Results {
		if !strings.Contains(r.Name, "drop path") || r.Unit != "GB/s" || !(r.Throughput > 0) || len(r.RunsMs) != 1 {
			t.Errorf("bench ops row %+v: want a drop path case in GB/s with one run", r)
		}
	}
	// The GEMM family's twins are opt-in: --only "linear 768->32 fwd" gives
	// the kernel's row alone, with --gemm its GEMM twin too.
	for _, gemm := range []bool{false, true} {
		args := []string{"bench", "ops", "--only", "linear 768->32 fwd", "--runs", "1", "--min-time", "0s", "--warm-up", "0s", "--json"}
		if gemm {
			args = append(args, "--gemm")
		}
		out, _ = runChild(t, args...)
		ops.Results = nil
		if err := json.Unmarshal([]byte(out), &ops); err != nil {
			t.Fatalf("bench ops %v: %v\n%s", args, err, out)
		}
		families := map[string]int{}
		for _, r := range ops.Results {
			families[r.Op]++
		}
		if families["squeeze_excite"] != 1 || families["gemm"] != map[bool]int{false: 0, true: 1}[gemm] {
			t.Errorf("bench ops %v: rows per family %v, want one squeeze_excite row and %v gemm rows", args, families, gemm)
		}
	}
	// Impossible timings are refused before a device opens, naming the flag.
	for flag, value := range map[string]string{"--runs": "0", "--min-time": "-1s", "--warm-up": "-5ms"} {
		err := runCLI(t, "bench", "ops", "--only", "drop path", flag, value)
		if err == nil || !strings.Contains(err.Error(), flag) {
			t.Errorf("bench ops %s %s: %v, want an error naming %s", flag, value, err, flag)
		}
	}
}
