package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/safetensors"
)

// TestCheckpointCommands trains a tiny run, then evaluates, exports and
// predicts from its checkpoint through the CLI.
func TestCheckpointCommands(t *testing.T) {
	t.Setenv("EFFV2VK_VALIDATE", "1")
	out := t.TempDir()
	trainArgs := []string{"train", "--data", "../../testdata/fashion-mnist-subset", "--train-limit", "128", "--test-limit", "50",
		"--epochs", "1", "--stages", "1", "--batch-size", "16", "--warmup-epochs", "0.5", "--out", out}
	if err := runCLI(t, trainArgs...); err != nil {
		t.Fatal(err)
	}
	checkEval(t, out)
	exported := filepath.Join(t.TempDir(), "w.safetensors")
	if err := runCLI(t, "export", "--checkpoint", out, "--output", exported, "--ema"); err != nil {
		t.Fatal(err)
	}
	f, err := safetensors.Read(exported)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Tensor("classifier.1.weight"); err != nil || f.Len() != 110 {
		t.Fatalf("export: %d tensors, classifier: %v", f.Len(), err)
	}
	// The exported weights load through the interop door.
	if err := runCLI(t, "infer", "--model", "efficientnetv2-pico", "--classes", "10", "--weights", exported,
		"--input", "../../testdata/golden/pico-io.safetensors", "--output", filepath.Join(t.TempDir(), "o.safetensors")); err != nil {
		t.Fatal(err)
	}
	checkPredict(t, out)
	checkAlreadyFinished(t, out, trainArgs)
	bad := filepath.Join(t.TempDir(), "bad.png")
	os.WriteFile(bad, []byte("not an image"), 0o644)
	if err := runCLI(t, "predict", "--checkpoint", out, bad); err == nil || !strings.Contains(err.Error(), "bad.png") {
		t.Fatalf("predict of a bad file: %v", err)
	}
	if err := runCLI(t, "eval", "--checkpoint", t.TempDir()); err == nil || !strings.Contains(err.Error(), "no checkpoint") {
		t.Fatalf("eval of an empty dir: %v", err)
	}
}

// fashionClasses are Fashion-MNIST's class names, by label.
var fashionClasses = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// checkPredict runs `effv2vk predict` on two images and checks each gets
// five distinct Fashion-MNIST classes with probabilities in falling order
// that sum to at most 100%, and that different images get different
// probabilities.
func checkPredict(t *testing.T, run string) {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i, fill := range []uint8{30, 220} {
		img := image.NewGray(image.Rect(0, 0, 28, 28))
		for y := 4; y < 24; y++ {
			for x := 8 + 4*i; x < 20; x++ {
				img.SetGray(x, y, color.Gray{Y: fill})
			}
		}
		path := filepath.Join(dir, fmt.Sprintf("img%d.png", i))
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if err := png.Encode(f, img); err != nil {
			t.Fatal(err)
		}
		f.Close()
		paths = append(paths, path)
	}
	out, _ := runChild(t, append([]string{"predict", "--checkpoint", run}, paths...)...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 12 {
		t.Fatalf("predict printed %d lines for 2 images, want 2 x (name + 5 classes):\n%s", len(lines), out)
	}
	row := regexp.MustCompile(`^\s+([0-9.]+)%  (.+)$`)
	var firstProbs []string
	for i, path := range paths {
		block := lines[6*i : 6*i+6]
		if block[0] != path {
			t.Fatalf("predict block %d starts with %q, want the image's path %s", i, block[0], path)
		}
		seen, sum, prev := map[string]bool{}, 0.0, 101.0
		var probs []string
		for _, l := range block[1:] {
			m := row.FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("predict line %q is not \"  P%%  class\"", l)
			}
			p, err := strconv.ParseFloat(m[1], 64)
			if err != nil || !(p >= 0 && p <= prev) {
				t.Fatalf("predict: probability %q after %v: want falling percentages", m[1], prev)
			}
			if seen[m[2]] || !slices.Contains(fashionClasses, m[2]) {
				t.Fatalf("predict: class %q repeated or not a Fashion-MNIST class", m[2])
			}
			seen[m[2]] = true
			prev, sum = p, sum+p
			probs = append(probs, m[1])
		}
		if !(sum > 0 && sum <= 100.05) {
			t.Errorf("predict: the top-5 probabilities of %s sum to %.2f%%", path, sum)
		}
		if i == 0 {
			firstProbs = probs
		} else if slices.Equal(probs, firstProbs) {
			t.Errorf("predict gave both images the same probabilities %v: are the images reaching the model?", probs)
		}
	}
}

// checkAlreadyFinished resumes the finished run in dir: effv2vk must say so
// and leave its checkpoints and metrics as they were.
func checkAlreadyFinished(t *testing.T, dir string, trainArgs []string) {
	t.Helper()
	before := snapshotFiles(t, dir)
	out, _ := runChild(t, append(trainArgs, "--resume")...)
	if !strings.Contains(out, "nothing to resume") || !strings.Contains(out, "already finished all its steps") {
		t.Errorf("train --resume of a finished run does not say it had finished:\n%s", out)
	}
	after := snapshotFiles(t, dir)
	for name, b := range before {
		if name != "config.json" && after[name] != b {
			t.Errorf("train --resume of a finished run changed %s", name)
		}
	}
	if len(after) != len(before) {
		t.Errorf("train --resume of a finished run left files %v, before %v", keysOf(after), keysOf(before))
	}
}

// snapshotFiles returns the contents of the files in dir by name.
func snapshotFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = string(b)
	}
	return files
}

// keysOf lists a map's keys, sorted.
func keysOf(m map[string]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// checkEval runs `effv2vk eval` on the run's best checkpoint with a batch
// size that divides the test split and one that leaves a partial last
// batch: both must report the same images and accuracies, with top-1 at
// most top-5.
func checkEval(t *testing.T, run string) {
	t.Helper()
	line := regexp.MustCompile(`best\.safetensors \(efficientnetv2-pico, step 8, weights\), test split, (\d+) images at 28px: top-1 ([0-9.]+)%, top-5 ([0-9.]+)%`)
	var reports [][]string
	for _, batch := range []string{"50", "7"} {
		out, _ := runChild(t, "eval", "--checkpoint", run, "--data", "../../testdata/fashion-mnist-subset", "--batch-size", batch)
		m := line.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("eval --batch-size %s printed no line like %q:\n%s", batch, line, out)
		}
		reports = append(reports, m[1:])
	}
	if !slices.Equal(reports[0], reports[1]) {
		t.Errorf("eval reports (images, top-1, top-5) %v at batch 50, %v at batch 7", reports[0], reports[1])
	}
	top1, _ := strconv.ParseFloat(reports[0][1], 64)
	top5, _ := strconv.ParseFloat(reports[0][2], 64)
	if n, _ := strconv.Atoi(reports[0][0]); n < 100 || !(top1 >= 0 && top1 <= top5 && top5 <= 100) {
		t.Errorf("eval: %s images, top-1 %v%%, top-5 %v%%", reports[0][0], top1, top5)
	}
}
