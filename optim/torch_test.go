package optim_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/optim"
)

// torchPython is the interpreter that has torch on the project's machines
// (the python3 on PATH may not).
const torchPython = "/usr/bin/python3"

// independentCase is an optimizer and the script's name and settings for
// the same update rule.
type independentCase struct {
	label  string
	name   string // for optim.New
	cfg    optim.Config
	script string // the script's "optimizer"
	config map[string]any
}

func independentCases() []independentCase {
	def := optim.DefaultConfig()
	nesterov := def
	nesterov.SGD = optim.SGDConfig{Momentum: 0.8, Nesterov: true}
	adamw := def
	adamw.AdamW = optim.AdamWConfig{Beta1: 0.8, Beta2: 0.95, Eps: 1e-6}
	return []independentCase{
		{"sgd", "sgd", def, "sgd", map[string]any{"momentum": def.SGD.Momentum, "nesterov": false}},
		{"sgd-nesterov", "sgd", nesterov, "sgd", map[string]any{"momentum": nesterov.SGD.Momentum, "nesterov": true}},
		{"adamw", "adamw", def, "adamw", map[string]any{"beta1": def.AdamW.Beta1, "beta2": def.AdamW.Beta2, "eps": def.AdamW.Eps}},
		{"adamw-other-betas", "adamw", adamw, "adamw", map[string]any{"beta1": adamw.AdamW.Beta1, "beta2": adamw.AdamW.Beta2, "eps": adamw.AdamW.Eps}},
		{"rmsprop-tf", "rmsprop", def, "rmsprop_tf", map[string]any{"rho": def.RMSProp.Rho, "momentum": def.RMSProp.Momentum, "eps": def.RMSProp.Eps}},
	}
}

// referenceStep is the script's parameters and state after one step, per
// group.
type referenceStep struct {
	Params [][]float64
	State  map[string][][]float64
}

// TestOptimizersMatchIndependentImplementations runs 5 recorded-once steps
// of each optimizer over a weight-decayed and an exempt group, with a
// learning rate that changes every step, and compares the parameters and
// every state slot after each step with an implementation this package's
// authors did not write: torch.optim.SGD (with and without Nesterov) and
// torch.optim.AdamW in float64, and TF-style RMSProp as the official
// EfficientNetV2 code runs it (tf.train.RMSPropOptimizer, whose update
// testdata/torch_optim.py quotes:
//
//	ms  <- rho * ms_{t-1} + (1 - rho) * grad * grad      // ms starts at 1
//	mom <- momentum * mom_{t-1} + lr * grad / sqrt(ms + epsilon)
//	var <- var - mom
//
// with decay (rho) 0.9, momentum 0.9, epsilon 0.001 and the L2 weight decay
// in the gradient). Without /usr/bin/python3 and torch it skips, except
// under CI=true, where it fails.
func TestOptimizersMatchIndependentImplementations(t *testing.T) {
	d := enginetest.Open(t)
	r := testRand(t)
	lrs := []float64{0.1, 0.03, 0.2, 0.01, 0.15}
	cases := independentCases()
	requests := make([]map[string]any, len(cases))
	got := make([][]referenceStep, len(cases)) // ours, per case and step
	for ci, c := range cases {
		requests[ci], got[ci] = runOptimizer(t, d, r, c, lrs)
	}
	wants := runOptimizerReferences(t, requests)
	for ci, c := range cases {
		t.Run(c.label, func(t *testing.T) {
			want := wants[ci]
			if len(want) != len(lrs) {
				t.Fatalf("the script returned %d steps, want %d", len(want), len(lrs))
			}
			if len(want[0].State) == 0 || len(want[0].State) != len(got[ci][0].State) {
				t.Fatalf("the script returned state slots %v, this optimizer has %v", keys(want[0].State), keys(got[ci][0].State))
			}
			previous := referenceStep{Params: requests[ci]["params"].([][]float64)}
			for step := range want {
				ours := got[ci][step]
				for gi := range previous.Params {
					// A value an update cancels to near zero carries the
					// float32 rounding of its operands: errors are measured
					// against at least the magnitude before the step.
					compareAtLeast(t, fmt.Sprintf("step %d group %d params", step, gi),
						ours.Params[gi], want[step].Params[gi], 1e-5, maxAbs(previous.Params[gi]))
					for slot, values := range want[step].State {
						if len(ours.State[slot]) != len(values) {
							t.Fatalf("step %d: the script's state %q (%d groups) is not among this optimizer's %v", step, slot, len(values), keys(ours.State))
						}
						before := 0.0
						if step > 0 {
							before = maxAbs(want[step-1].State[slot][gi])
						}
						compareAtLeast(t, fmt.Sprintf("step %d group %d %s", step, gi, slot), ours.State[slot][gi], values[gi], 1e-5, before)
					}
				}
				previous = want[step]
			}
		})
	}
}

// runOptimizer runs len(lrs) recorded-once steps of c's optimizer over a
// weight-decayed and an exempt group with random parameters and gradients,
// and returns the script's request for the same steps and this package's
// parameters and state after each step.
func runOptimizer(t *testing.T, d *engine.Device, r *rand.Rand, c independentCase, lrs []float64) (map[string]any, []referenceStep) {
	t.Helper()
	const wd = 0.05
	m := newFlatModel(t, d, 4*(40+r.IntN(60))+1+r.IntN(3), 1+r.IntN(30), wd)
	params := normals(r, m.total)
	if err := m.params.Upload(params); err != nil {
		t.Fatal(err)
	}
	opt, err := optim.New(c.name, d, m.groups, c.cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer opt.Free()
	seq, err := d.NewSequence("optimizer "+c.label, engine.SequenceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer seq.Release()
	opt.Record(seq)
	if err := seq.Finish(); err != nil {
		t.Fatal(err)
	}
	var groupParams, decays = [][]float64{}, []float64{}
	for gi, rg := range m.ranges() {
		groupParams = append(groupParams, widen(params[rg[0]:rg[1]]))
		decays = append(decays, float64(m.groups[gi].WeightDecay))
	}
	var stepGrads [][][]float64
	var got []referenceStep
	for step, lr := range lrs {
		grads := normals(r, m.total)
		var perGroup [][]float64
		for _, rg := range m.ranges() {
			perGroup = append(perGroup, widen(grads[rg[0]:rg[1]]))
		}
		stepGrads = append(stepGrads, perGroup)
		if err := m.grads.Upload(grads); err != nil {
			t.Fatal(err)
		}
		if err := opt.SetStep(step, lr); err != nil {
			t.Fatal(err)
		}
		if err := d.Run(seq); err != nil {
			t.Fatal(err)
		}
		all := download(t, m.params)
		ours := referenceStep{State: map[string][][]float64{}}
		for _, rg := range m.ranges() {
			ours.Params = append(ours.Params, all[rg[0]:rg[1]])
		}
		for _, st := range opt.State() {
			slot := path.Base(st.Name)
			ours.State[slot] = append(ours.State[slot], download(t, st.Tensor))
		}
		got = append(got, ours)
	}
	request := map[string]any{"optimizer": c.script, "config": c.config, "lrs": lrs,
		"params": groupParams, "weight_decay": decays, "grads": stepGrads}
	return request, got
}

// keys lists a map's keys.
func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// runOptimizerReferences sends the requests to testdata/torch_optim.py in
// one run and returns its steps per request; it skips or fails (under
// CI=true) when torch is not available.
func runOptimizerReferences(t *testing.T, requests []map[string]any) [][]referenceStep {
	t.Helper()
	body, err := json.Marshal(map[string]any{"requests": requests})
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(torchPython, "testdata/torch_optim.py")
	cmd.Stdin = bytes.NewReader(body)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var exitErr *exec.ExitError
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) ||
		(errors.As(err, &exitErr) && strings.Contains(stderr.String(), "No module named 'torch'")) {
		msg := fmt.Sprintf("the optimizer references need %s with torch installed: %v", torchPython, err)
		if os.Getenv("CI") == "true" {
			t.Fatal(msg + " (CI=true: install python3-torch on the runner)")
		}
		t.Skip(msg)
	}
	if err != nil {
		t.Fatalf("testdata/torch_optim.py: %v\n%s", err, stderr.String())
	}
	var reply struct {
		Torch   string
		Results [][]referenceStep
	}
	if err := json.Unmarshal(stdout.Bytes(), &reply); err != nil {
		t.Fatalf("testdata/torch_optim.py wrote bad JSON: %v", err)
	}
	if len(reply.Results) != len(requests) {
		t.Fatalf("testdata/torch_optim.py answered %d of %d requests", len(reply.Results), len(requests))
	}
	t.Logf("compared with torch %s", reply.Torch)
	return reply.Results
}
