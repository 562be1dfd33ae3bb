package net_test

import (
	"testing"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
	"github.com/effv2vk/effv2vk/net"
)

// newPicoModel builds a 10-class efficientnetv2-pico on d with weights from
// seed, freed when t ends.
func newPicoModel(t *testing.T, d *engine.Device, seed uint64) *net.Model {
	t.Helper()
	m, err := net.NewModel(d, pico(t, 10), seed)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Free)
	return m
}

// randomImages is n standard-normal images of 3 x size x size.
func randomImages(t *testing.T, n, size int) []float32 {
	r := enginetest.Rand(t)
	x := make([]float32, n*3*size*size)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}
