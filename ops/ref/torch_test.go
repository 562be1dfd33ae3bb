package ref

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// torchPython is the interpreter that has torch on the project's machines
// (the python3 on PATH may not).
const torchPython = "/usr/bin/python3"

// torchCase is one comparison: the JSON the script reads, and what this
// package computes for each output the script returns.
type torchCase struct {
	name  string
	input map[string]any
	want  map[string][]float64
}

// TestAgainstPyTorch runs testdata/torch_reference.py on fixed small inputs
// and compares every output to this package's, to 1e-6 relative, in float64.
// Without python3 and torch it skips, except under CI=true, where it fails.
func TestAgainstPyTorch(t *testing.T) {
	cases := torchConvCases()
	cases = append(cases, torchBatchNormCases()...)
	cases = append(cases, torchResizeCases()...)
	cases = append(cases, torchCrossEntropyCases()...)
	cases = append(cases, torchSmallOpCases()...)
	results := runTorch(t, cases)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for out, want := range c.want {
				got, ok := results[i][out]
				if !ok {
					t.Fatalf("the script returned no %q", out)
				}
				// The failure message reads "out[i] = <ours>, want <PyTorch's>".
				assertClose(t, out, want, got, 1e-6)
			}
		})
	}
}

// runTorch sends the cases to the script and returns its outputs, one map per
// case; it skips or fails (under CI=true) when torch is not available.
func runTorch(t *testing.T, cases []torchCase) []map[string][]float64 {
	t.Helper()
	inputs := make([]map[string]any, len(cases))
	for i, c := range cases {
		inputs[i] = c.input
	}
	request, err := json.Marshal(map[string]any{"cases": inputs})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(torchPython, "testdata/torch_reference.py")
	cmd.Stdin = bytes.NewReader(request)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	missing := errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) ||
		(errors.As(err, &exitErr) && strings.Contains(stderr.String(), "No module named 'torch'"))
	if missing {
		msg := fmt.Sprintf("PyTorch comparison needs %s with torch installed: %v", torchPython, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: install python3 and torch on the runner)")
		}
		t.Skip(msg)
	}
	if err != nil {
		t.Fatalf("testdata/torch_reference.py: %v\n%s", err, stderr.String())
	}
	var reply struct {
		Torch   string
		Results []map[string][]float64
	}
	if err := json.Unmarshal(stdout.Bytes(), &reply); err != nil {
		t.Fatalf("testdata/torch_reference.py wrote bad JSON: %v", err)
	}
	if len(reply.Results) != len(cases) {
		t.Fatalf("script returned %d results for %d cases", len(reply.Results), len(cases))
	}
	t.Logf("compared with torch %s", reply.Torch)
	return reply.Results
}

// shapeList is a Shape4 as the script's [N,C,H,W] list.
func shapeList(s Shape4) []float64 {
	return []float64{float64(s.N), float64(s.C), float64(s.H), float64(s.W)}
}

func torchConvCases() []torchCase {
	var cases []torchCase
	rng := newRand(101)
	for _, c := range convCases(102) {
		x := randSlice(rng, c.xs.Len())
		w := randSlice(rng, c.oc*c.xs.C*c.k*c.k)
		y, ys := Conv2DForward(x, c.xs, w, c.oc, c.k, c.st)
		dy := randSlice(rng, ys.Len())
		cases = append(cases, torchCase{
			name: "conv2d_" + c.String(),
			input: map[string]any{"op": "conv2d", "xs": shapeList(c.xs), "oc": c.oc, "k": c.k, "stride": c.st,
				"x": x, "w": w, "dy": dy},
			want: map[string][]float64{"y": y, "ys": shapeList(ys),
				"dx": Conv2DBackwardData(dy, ys, w, c.xs, c.k, c.st), "dw": Conv2DBackwardWeight(x, c.xs, dy, ys, c.k, c.st)},
		})

		wd := randSlice(rng, c.xs.C*c.k*c.k)
		yd, yds := DepthwiseForward(x, c.xs, wd, c.k, c.st)
		dyd := randSlice(rng, yds.Len())
		cases = append(cases, torchCase{
			name: fmt.Sprintf("depthwise_x%v_k%d_s%d", c.xs, c.k, c.st),
			input: map[string]any{"op": "depthwise", "xs": shapeList(c.xs), "k": c.k, "stride": c.st,
				"x": x, "w": wd, "dy": dyd},
			want: map[string][]float64{"y": yd, "ys": shapeList(yds),
				"dx": DepthwiseBackwardData(dyd, yds, wd, c.xs, c.k, c.st), "dw": DepthwiseBackwardWeight(x, c.xs, dyd, yds, c.k, c.st)},
		})
	}
	return cases
}

func torchBatchNormCases() []torchCase {
	var cases []torchCase
	rng := newRand(111)
	for _, xs := range bnShapes {
		const eps, momentum = 1e-3, 0.1
		x := randSlice(rng, xs.Len())
		for i := range x {
			x[i] = 2*x[i] + 0.5
		}
		gamma, beta, dy := randSlice(rng, xs.C), randSlice(rng, xs.C), randSlice(rng, xs.Len())
		runMean, runVar := randSlice(rng, xs.C), randSlice(rng, xs.C)
		for c := range runVar {
			runVar[c] += 1.5
		}
		input := map[string]any{"op": "batch_norm", "xs": shapeList(xs), "x": x, "gamma": gamma, "beta": beta,
			"dy": dy, "run_mean": runMean, "run_var": runVar, "eps": eps, "momentum": momentum}
		y, mean, variance, invstd := BatchNormTrainForward(x, xs, gamma, beta, eps)
		dx, dgamma, dbeta := BatchNormBackward(dy, x, xs, gamma, mean, invstd)
		newMean, newVar := append([]float64(nil), runMean...), append([]float64(nil), runVar...)
		BatchNormUpdateRunning(newMean, newVar, mean, variance, xs.N*xs.H*xs.W, momentum)
		cases = append(cases, torchCase{
			name:  "batch_norm_" + xs.String(),
			input: input,
			want: map[string][]float64{"y": y, "dx": dx, "dgamma": dgamma, "dbeta": dbeta,
				"run_mean": newMean, "run_var": newVar,
				"y_eval": BatchNormEvalForward(x, xs, gamma, beta, newMean, newVar, eps)},
		})
	}
	return cases
}

func torchResizeCases() []torchCase {
	var cases []torchCase
	rng := newRand(121)
	for _, c := range []struct {
		xs         Shape4
		outH, outW int
	}{
		{Shape4{1, 3, 5, 7}, 3, 4},   // down, odd
		{Shape4{2, 3, 3, 4}, 8, 9},   // up, non-integer factor
		{Shape4{1, 2, 7, 7}, 7, 3},   // one axis only
		{Shape4{1, 1, 1, 5}, 4, 13},  // single row
		{Shape4{1, 3, 13, 9}, 6, 17}, // down one axis, up the other
	} {
		x := randSlice(rng, c.xs.Len())
		y, _ := ResizeBilinear(x, c.xs, c.outH, c.outW)
		cases = append(cases, torchCase{
			name:  fmt.Sprintf("resize_%v_to_%dx%d", c.xs, c.outH, c.outW),
			input: map[string]any{"op": "resize", "xs": shapeList(c.xs), "x": x, "out_h": c.outH, "out_w": c.outW},
			want:  map[string][]float64{"y": y},
		})
	}
	mean := [3]float64{0.485, 0.456, 0.406}
	std := [3]float64{0.229, 0.224, 0.225}
	for _, c := range []struct{ n, h, w, c, outH, outW int }{
		{2, 5, 7, 3, 4, 9},
		{1, 9, 6, 1, 5, 5},
		{2, 4, 4, 1, 7, 3},
	} {
		src := make([]uint8, c.n*c.h*c.w*c.c)
		srcList := make([]int, len(src))
		for i := range src {
			src[i] = uint8(rng.IntN(256))
			srcList[i] = int(src[i])
		}
		cases = append(cases, torchCase{
			name: fmt.Sprintf("prepare_input_%dx%dx%dx%d_to_%dx%d", c.n, c.h, c.w, c.c, c.outH, c.outW),
			input: map[string]any{"op": "prepare_input", "src": srcList, "n": c.n, "h": c.h, "w": c.w, "c": c.c,
				"out_h": c.outH, "out_w": c.outW, "mean": mean, "std": std},
			want: map[string][]float64{"y": PrepareInput(src, c.n, c.h, c.w, c.c, c.outH, c.outW, mean, std)},
		})
	}
	return cases
}

func torchCrossEntropyCases() []torchCase {
	const n, k = 4, 7
	rng := newRand(131)
	logits := randSlice(rng, n*k)
	for i := range logits {
		logits[i] *= 3
	}
	labels := []int{0, 6, 3, 3}
	soft := make([]float64, n*k)
	for r := range n {
		// A mixup target: lambda on one class, 1-lambda on another.
		lam := rng.Float64()
		soft[r*k+rng.IntN(k)] += lam
		soft[r*k+rng.IntN(k)] += 1 - lam
	}
	var cases []torchCase
	for _, eps := range []float64{0, 0.1} {
		res := SoftmaxCrossEntropy(logits, n, k, HardTargets(labels, eps))
		cases = append(cases, torchCase{
			name: fmt.Sprintf("cross_entropy_smoothing_%v", eps),
			input: map[string]any{"op": "cross_entropy", "n": n, "k": k, "logits": logits,
				"labels": labels, "smoothing": eps},
			want: map[string][]float64{"loss": {res.Loss}, "dlogits": res.DLogits},
		})
	}
	res := SoftmaxCrossEntropy(logits, n, k, SoftTargets(soft))
	cases = append(cases, torchCase{
		name:  "cross_entropy_soft",
		input: map[string]any{"op": "cross_entropy", "n": n, "k": k, "logits": logits, "soft": soft},
		want:  map[string][]float64{"loss": {res.Loss}, "dlogits": res.DLogits},
	})
	return cases
}

func torchSmallOpCases() []torchCase {
	rng := newRand(141)
	x, dy := randSlice(rng, 29), randSlice(rng, 29)
	for i := range x {
		x[i] *= 8
	}
	const n, in, out = 3, 5, 4
	lx, lw, lb, ldy := randSlice(rng, n*in), randSlice(rng, out*in), randSlice(rng, out), randSlice(rng, n*out)
	ldx, ldw, ldb := LinearBackward(ldy, lx, n, in, lw, out)
	return []torchCase{
		{
			name:  "silu",
			input: map[string]any{"op": "silu", "x": x, "dy": dy},
			want:  map[string][]float64{"y": SiLUForward(x), "dx": SiLUBackward(dy, x)},
		},
		{
			name:  "sigmoid",
			input: map[string]any{"op": "sigmoid", "x": x, "dy": dy},
			want:  map[string][]float64{"y": SigmoidForward(x), "dx": SigmoidBackward(dy, x)},
		},
		{
			name:  "linear",
			input: map[string]any{"op": "linear", "n": n, "in": in, "out": out, "x": lx, "w": lw, "b": lb, "dy": ldy},
			want: map[string][]float64{"y": LinearForward(lx, n, in, lw, lb, out),
				"dx": ldx, "dw": ldw, "db": ldb},
		},
	}
}
