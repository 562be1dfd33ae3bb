package main

import (
	"errors"
	"strings"
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/shaders"
)

// TestWithDeviceFailsOnValidation runs, through the function every device
// command uses, a sequence that lacks a barrier: the command must fail with
// the validation layer's message, and a clean run must not.
func TestWithDeviceFailsOnValidation(t *testing.T) {
	enginetest.RequireDevice(t)
	t.Setenv("EFFV2VK_VALIDATE", "1")
	hazard := func(skip bool) func(d *engine.Device) error {
		return func(d *engine.Device) error {
			k, err := d.Kernel("saxpy")
			if err != nil {
				return err
			}
			a, _ := d.NewTensor("a", engine.Float32, 64)
			b, _ := d.NewTensor("b", engine.Float32, 64)
			defer a.Free()
			defer b.Free()
			s, err := d.NewSequence("hazard", engine.SequenceOptions{})
			if err != nil {
				return err
			}
			defer s.Release()
			s.Dispatch1D(k, 64, shaders.SaxpyPush{N: 64, A: 1}, a, b)
			if skip {
				s.SkipNextBarrier()
			}
			s.Dispatch1D(k, 64, shaders.SaxpyPush{N: 64, A: 1}, b, a)
			return d.Run(s)
		}
	}
	if err := withDevice("", hazard(false)); err != nil {
		t.Fatalf("a clean run failed: %v", err)
	}
	err := withDevice("", hazard(true))
	if err == nil || !strings.Contains(err.Error(), "validation layer reported") || !strings.Contains(err.Error(), "SYNC-HAZARD") {
		t.Fatalf("a missing barrier: got %v, want the validation layer's hazard", err)
	}
	own := errors.New("the command's own error")
	err = withDevice("", func(d *engine.Device) error { hazard(true)(d); return own })
	if !errors.Is(err, own) || !strings.Contains(err.Error(), "SYNC-HAZARD") {
		t.Fatalf("an error and a hazard: got %v, want both", err)
	}
}
