package optim

import (
	"fmt"

	"github.com/effv2vk/effv2vk/engine"
)

// launches are the autotuned ways to launch an optim kernel (engine's
// tuner times them, see engine.TuneEnv): texel or storage-buffer reads,
// workgroups of 8 (one lavapipe subgroup), 64 or 256 invocations, 4 or 16
// vec4s per invocation. The tuner's operation is the kernel's name; its
// variants are launch names ("texel_8x16").
var launches = []launch{
	{local: 8, items: 16, texelReads: true},
	{local: 64, items: 4, texelReads: true},
	{local: 256, items: 4, texelReads: true},
	{local: 64, items: 4, texelReads: false},
	{local: 256, items: 4, texelReads: false},
}

// defaultLaunch is the launch of every optim kernel on d when tuning is off
// (engine.TuneEnv) or before anything is cached.
//
// A CPU driver (lavapipe): texel reads, workgroups of 8 invocations with 16
// vec4s each. Storage-buffer loads at non-uniform addresses are a lane-by-
// lane loop there and texel loads a gather. The tuner's GPU-timestamp
// medians for RMSProp over 4M elements (lavapipe, 2 busy cores):
// texel_8x16 27.9 ms, texel_256x4 34.3, texel_64x4 55.8, storage_256x4
// 74.6, storage_64x4 (the launch before texel reads) 156.0; SGD, AdamW and
// the EMA ranked texel_8x16 first too. 8 x 32 and 8 x 64 timed within noise
// of 8 x 16; 16 x 16, 32 x 16 and 8 x 8 slower.
//
// A GPU: storage-buffer reads, 64 invocations with 4 vec4s each, the launch
// every device took before the texel path existed (not yet measured on a
// GPU; the tuner times the others against it and keeps one only when it is
// faster).
func defaultLaunch(d *engine.Device) launch {
	if d.Info.Type == engine.CPU {
		return launches[0]
	}
	return launches[3]
}

// eligibleLaunches are the launches whose workgroup d can run.
func eligibleLaunches(d *engine.Device) []launch {
	var out []launch
	for _, l := range launches {
		if uint32(l.local) <= d.Info.MaxWorkgroupInvocation {
			out = append(out, l)
		}
	}
	return out
}

// tuneElements caps the length of the scratch range a launch is timed on:
// the kernels are elementwise, so a few million elements time a launch as
// well as all of them, in a fraction of the memory.
const tuneElements = 1 << 22

// rangeBench makes scratch tensors for timing a kernel over n elements:
// tensors[0] is the range's parameters, the rest what bind adds.
type rangeBench func(d *engine.Device, n int) (record func(s *engine.Sequence, k *engine.Kernel, l launch), release func(), err error)

// chooseLaunch asks d's tuner which launch records kernel over ranges of
// at most n elements (the longest range it will dispatch), timing them with
// bench when it must.
func chooseLaunch(d *engine.Device, kernel string, n int, bench rangeBench) (launch, error) {
	vs := eligibleLaunches(d)
	def := defaultLaunch(d)
	if len(vs) == 0 {
		return def, fmt.Errorf("optim: %s: no launch fits %s's %d invocations per workgroup", kernel, d.Info.Name, d.Info.MaxWorkgroupInvocation)
	}
	m := min(n, tuneElements)
	req := engine.TuneRequest{Op: kernel, Shape: fmt.Sprintf("n=%d", m), Default: def.name()}
	found := false
	for _, l := range vs {
		req.Variants = append(req.Variants, engine.TuneVariant{Name: l.name(), Kernels: []string{kernel}})
		found = found || l == def
	}
	if !found { // the device runs none of the defaults' workgroups: the smallest
		def = vs[0]
		req.Default = def.name()
	}
	req.Bench = func(d *engine.Device) (func(s *engine.Sequence, i int), func(), error) {
		record, release, err := bench(d, m)
		if err != nil {
			return nil, nil, err
		}
		return func(s *engine.Sequence, i int) { record(s, vs[i].kernel(s, kernel), vs[i]) }, release, nil
	}
	res, err := d.Tune(req)
	if err != nil {
		return def, err
	}
	for _, l := range vs {
		if l.name() == res.Variant {
			return l, nil
		}
	}
	return def, fmt.Errorf("optim: %s: the tuner chose %q, not an eligible launch", kernel, res.Variant)
}

// scratchTensors allocates count zeroed float32 tensors of n elements
// rounded up to whole vec4s (what optim's state tensors hold) and a
// function freeing them.
func scratchTensors(d *engine.Device, name string, count, n int) ([]*engine.Tensor, func(), error) {
	var out []*engine.Tensor
	free := func() {
		for _, t := range out {
			t.Free()
		}
	}
	zero := make([]float32, 4*vec4s(n))
	for i := 0; i < count; i++ {
		t, err := d.NewTensor(fmt.Sprintf("%s scratch %d", name, i), engine.Float32, len(zero))
		if err == nil {
			err = t.Upload(zero)
			out = append(out, t)
		}
		if err != nil {
			free()
			return nil, nil, fmt.Errorf("optim: timing %s: %w", name, err)
		}
	}
	return out, free, nil
}
