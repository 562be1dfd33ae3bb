package ops

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// Autotuned operations. An operation with several correct ways to record
// it lists them as variants of its call type C (the operation's geometry
// and tensors); engine.Device.Tune picks one per shape and device (see
// engine.TuneEnv). Adding a variant is one line in the operation's table:
//
//	{name: "rt2", kernels: pointwiseKernels, eligible: pointwiseRowTilesFit(2), record: pointwiseWithRowTiles(2)},
//
// (or a helper's result, as the GEMM family's variants in tune_gemm.go).
// Every variant must compute the operation's documented result; variants
// may differ in summation order only. TestTunedVariantsMatchReference runs
// every eligible variant of every table against the float64 reference.
type variant[C any] struct {
	// name identifies the variant within its operation (in the tune
	// cache, TuneForceEnv and `effv2vk tune`).
	name string
	// kernels lists the shader-index kernels the variant dispatches on d.
	kernels func(d *engine.Device, c C) []string
	// eligible reports whether the variant can record c on d (nil: always).
	eligible func(d *engine.Device, c C) bool
	// record dispatches the variant.
	record func(s *engine.Sequence, c C)
}

// tunedOp is one autotuned operation: its variants and how to make a
// scratch copy of a call for timing.
type tunedOp[C any] struct {
	// op names the operation (engine.TuneRequest.Op).
	op string
	// variants are the ways to record it; the table's order is kept.
	variants []variant[C]
	// defaultVariant names the built-in choice on d for c (what today's
	// fixed rules pick; the choice with EFFV2VK_TUNE=off).
	defaultVariant func(d *engine.Device, c C) string
	// shape describes c for the tune cache key and the table.
	shape func(c C) string
	// scratch returns a copy of c on new zeroed tensors of the same shapes
	// and a function freeing them.
	scratch func(d *engine.Device, c C) (C, func(), error)
}

// eligibleVariants returns the variants of t that can record c on d.
func (t *tunedOp[C]) eligibleVariants(d *engine.Device, c C) []variant[C] {
	var out []variant[C]
	for _, v := range t.variants {
		if v.eligible == nil || v.eligible(d, c) {
			out = append(out, v)
		}
	}
	return out
}

// choose asks the tuner which variant records c on d.
func (t *tunedOp[C]) choose(d *engine.Device, c C) (variant[C], error) {
	vs := t.eligibleVariants(d, c)
	if len(vs) == 0 {
		return variant[C]{}, fmt.Errorf("%s %s: no variant fits this device and shape", t.op, t.shape(c))
	}
	req := engine.TuneRequest{Op: t.op, Shape: t.shape(c), Default: t.defaultVariant(d, c)}
	for _, v := range vs {
		req.Variants = append(req.Variants, engine.TuneVariant{Name: v.name, Kernels: v.kernels(d, c)})
	}
	req.Bench = func(d *engine.Device) (func(s *engine.Sequence, i int), func(), error) {
		sc, free, err := t.scratch(d, c)
		if err != nil {
			return nil, nil, err
		}
		return func(s *engine.Sequence, i int) { vs[i].record(s, sc) }, free, nil
	}
	res, err := d.Tune(req)
	if err != nil {
		return variant[C]{}, err
	}
	for _, v := range vs {
		if v.name == res.Variant {
			return v, nil
		}
	}
	return variant[C]{}, fmt.Errorf("%s %s: the tuner chose %q, not an eligible variant", t.op, t.shape(c), res.Variant)
}

// record records c with the variant the tuner chooses.
func (t *tunedOp[C]) record(s *engine.Sequence, c C) {
	if s.Err() != nil {
		return
	}
	v, err := t.choose(s.Device(), c)
	if err != nil {
		s.Fail(err)
		return
	}
	v.record(s, c)
}

// scratchWithEpilogue is scratchTensors for an operation with an optional
// fused epilogue: it returns scratch twins of ts and, when ep is not nil, a
// copy of ep whose tensors are scratch twins too (the real ones may be only
// planned: the first use can be in Device.Plan).
func scratchWithEpilogue(d *engine.Device, ep *Epilogue, ts ...*engine.Tensor) ([]*engine.Tensor, *Epilogue, func(), error) {
	var e Epilogue
	if ep != nil {
		e = *ep
	}
	all, free, err := scratchTensors(d, append(ts[:len(ts):len(ts)], e.Scale, e.Shift, e.Residual, e.InputScale)...)
	if err != nil {
		return nil, nil, nil, err
	}
	n := len(ts)
	if ep == nil {
		return all[:n], nil, free, nil
	}
	e.Scale, e.Shift, e.Residual, e.InputScale = all[n], all[n+1], all[n+2], all[n+3]
	return all[:n], &e, free, nil
}

// scratchTensors allocates zeroed tensors shaped and typed like ts (nil
// stays nil) and returns them with a function freeing them.
func scratchTensors(d *engine.Device, ts ...*engine.Tensor) ([]*engine.Tensor, func(), error) {
	out := make([]*engine.Tensor, len(ts))
	free := func() {
		for _, t := range out {
			if t != nil {
				t.Free()
			}
		}
	}
	for i, t := range ts {
		if t == nil {
			continue
		}
		st, err := d.NewTensor("tune scratch "+t.Name, t.DType, t.Shape...)
		if err != nil {
			free()
			return nil, nil, err
		}
		out[i] = st
	}
	if err := zeroTensors(d, out...); err != nil {
		free()
		return nil, nil, err
	}
	return out, free, nil
}

// zeroTensors fills ts (nil entries skipped) with zeros on the device.
func zeroTensors(d *engine.Device, ts ...*engine.Tensor) error {
	s, err := d.NewSequence("tune scratch zero", engine.SequenceOptions{})
	if err != nil {
		return err
	}
	defer s.Release()
	for _, t := range ts {
		if t != nil {
			s.Zero(t)
		}
	}
	return d.Run(s)
}

// tunedOps are every autotuned operation, for TunedVariants.
var tunedOps = []interface {
	opName() string
	variantNames() []string
}{pointwiseForwardTuned, pointwiseBackwardDataTuned, pointwiseBackwardWeightTuned, conv2dWeightTuned, linearForwardTuned, conv2dForwardTuned, conv2dBackwardDataTuned, bnTrainForwardTuned}

func (t *tunedOp[C]) opName() string { return t.op }

func (t *tunedOp[C]) variantNames() []string {
	names := make([]string, len(t.variants))
	for i, v := range t.variants {
		names[i] = v.name
	}
	return names
}

// TunedVariants lists every autotuned operation's variants by name (the
// names engine.TuneForceEnv takes); which are eligible depends on the
// shape and device.
func TunedVariants() map[string][]string {
	out := map[string][]string{}
	for _, t := range tunedOps {
		out[t.opName()] = t.variantNames()
	}
	return out
}
