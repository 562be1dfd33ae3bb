package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/shaders"
)

// inputCall is one recorded PrepareInput: its output, source and push
// constants (InvAcross is set per kernel).
type inputCall struct {
	y, src *engine.Tensor
	push   shaders.PrepareInputPush
}

// inputChoice is how PrepareInput is recorded: u64 asks for eight pixels
// per invocation written as u64vec4s (where the device has shaderInt64),
// windows for the _narrow and _pairs source windows.
type inputChoice struct{ u64, windows bool }

// inputDefault is the built-in choice on d: u64vec4 stores on a CPU driver
// with shaderInt64 (inputU64), source windows wherever they apply.
func inputDefault(d *engine.Device, ow int) inputChoice {
	return inputChoice{u64: inputU64(d, ow), windows: true}
}

// kernel is c's kernel and pixels per invocation under choice ch on d.
func (ch inputChoice) kernel(d *engine.Device, c inputCall) (string, int) {
	return inputKernel(int(c.push.W), int(c.push.OutW), ch.u64 && d.Info.Int64, ch.windows)
}

// inputChanges are PrepareInput's tuned variants: the device's default
// ("auto"), vec4 or u64vec4 stores, and every tap's pixel read alone.
var inputChanges = []struct {
	name   string
	change func(ch inputChoice) inputChoice
}{
	{"auto", func(ch inputChoice) inputChoice { return ch }},
	{"vec4_stores", func(ch inputChoice) inputChoice { ch.u64 = false; return ch }},
	{"u64_stores", func(ch inputChoice) inputChoice { ch.u64 = true; return ch }},
	{"taps", func(ch inputChoice) inputChoice { ch.windows = false; return ch }},
}

var inputTuned = newInputTuned()

func init() { tunedOps = append(tunedOps, inputTuned) }

func newInputTuned() *tunedOp[inputCall] {
	t := &tunedOp[inputCall]{
		op:             "prepare_input",
		defaultVariant: func(*engine.Device, inputCall) string { return "auto" },
		shape: func(c inputCall) string {
			p := c.push
			return fmt.Sprintf("n=%d %dx%dx%d -> %dx%d", p.N, p.H, p.W, p.C, p.OutH, p.OutW)
		},
		scratch: func(d *engine.Device, c inputCall) (inputCall, func(), error) {
			ts, free, err := scratchTensors(d, c.y, c.src)
			if err != nil {
				return c, nil, err
			}
			c.y, c.src = ts[0], ts[1]
			return c, free, nil
		},
	}
	for _, ch := range inputChanges {
		kernel := func(d *engine.Device, c inputCall) (string, int) {
			return ch.change(inputDefault(d, int(c.push.OutW))).kernel(d, c)
		}
		t.variants = append(t.variants, variant[inputCall]{
			name: ch.name,
			kernels: func(d *engine.Device, c inputCall) []string {
				name, _ := kernel(d, c)
				return []string{name}
			},
			// A variant is one only where it records another kernel.
			eligible: func(d *engine.Device, c inputCall) bool {
				name, _ := kernel(d, c)
				auto, _ := inputDefault(d, int(c.push.OutW)).kernel(d, c)
				return ch.name == "auto" || name != auto
			},
			record: func(s *engine.Sequence, c inputCall) {
				name, per := kernel(s.Device(), c)
				recordInput(s, c, name, per)
			},
		})
	}
	return t
}
