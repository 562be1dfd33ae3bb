package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"sync"
	"time"
	"unsafe"

	"github.com/effv2vk/effv2vk/shaders"
	vk "github.com/vulkan-go/vulkan"
)

// timeVariants times every variant of req on scratch tensors: per variant
// one sequence recording tuneSamples samples; each sequence runs once to
// warm up, then tuneRounds times, the variants taking turns (so that a
// slow spell of a shared machine charges them all); a sample's time is the
// sum of its dispatches' GPU times, a variant's the median of its samples.
func (d *Device) timeVariants(req TuneRequest) (map[string]time.Duration, error) {
	if !d.Info.TimestampsOnCompute {
		return nil, fmt.Errorf("%s has no timestamps on its compute queue", d.Info.Name)
	}
	if req.Bench == nil {
		return nil, fmt.Errorf("no bench for %s", req.Op)
	}
	// An operation's first use may come inside Plan (a network's graph
	// planned before it is allocated): the timing's scratch tensors and
	// sequences are real ones, freed before it returns, outside the plan.
	if p := d.plan; p != nil {
		d.plan = nil
		defer func() { d.plan = p }()
	}
	record, release, err := req.Bench(d)
	if err != nil {
		return nil, err
	}
	defer release()
	timed := make([]*timedVariant, len(req.Variants))
	defer func() {
		for _, tv := range timed {
			if tv != nil {
				tv.seq.Release()
			}
		}
	}()
	for i, v := range req.Variants {
		if timed[i], err = d.newTimedVariant(req.Op+" "+v.Name, func(s *Sequence) { record(s, i) }); err != nil {
			return nil, fmt.Errorf("variant %s: %w", v.Name, err)
		}
	}
	for round := 0; round <= tuneRounds; round++ { // round 0 warms up
		for i, tv := range timed {
			if err := tv.run(d, round > 0); err != nil {
				return nil, fmt.Errorf("variant %s: %w", req.Variants[i].Name, err)
			}
		}
	}
	times := map[string]time.Duration{}
	for i, v := range req.Variants {
		times[v.Name] = timed[i].median()
	}
	return times, nil
}

// tuneRounds is how many times each variant's sequence runs after the
// warm-up.
const tuneRounds = 3

// tuneMaxDispatches bounds the dispatches of one timed sequence.
const tuneMaxDispatches = 1024

// timedVariant is one variant's sequence of samples and the times measured.
type timedVariant struct {
	seq     *Sequence
	bounds  []int // sample i is dispatches bounds[i] to bounds[i+1]
	samples []time.Duration
}

func (d *Device) newTimedVariant(name string, record func(s *Sequence)) (*timedVariant, error) {
	s, err := d.NewSequence("tune "+name, SequenceOptions{Profile: true, MaxDispatches: tuneMaxDispatches})
	if err != nil {
		return nil, err
	}
	tv := &timedVariant{seq: s, bounds: []int{0}}
	for i := 0; i < tuneSamples; i++ {
		record(s)
		if s.err == nil && s.dispatches == tv.bounds[len(tv.bounds)-1] {
			s.fail(fmt.Errorf("a sample recorded no dispatch"))
		}
		tv.bounds = append(tv.bounds, s.dispatches)
	}
	if err := s.Finish(); err != nil {
		s.Release()
		return nil, err
	}
	return tv, nil
}

// run runs the sequence once, keeping its samples' times when keep.
func (tv *timedVariant) run(d *Device, keep bool) error {
	if err := d.Run(tv.seq); err != nil {
		return err
	}
	if !keep {
		return nil
	}
	per, err := tv.seq.dispatchTimes()
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(tv.bounds); i++ {
		var t time.Duration
		for _, p := range per[tv.bounds[i]:tv.bounds[i+1]] {
			t += p
		}
		tv.samples = append(tv.samples, t)
	}
	return nil
}

func (tv *timedVariant) median() time.Duration {
	s := append([]time.Duration(nil), tv.samples...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// dispatchTimes reads the GPU time of each dispatch of the last run of a
// profiled sequence, in recording order.
func (s *Sequence) dispatchTimes() ([]time.Duration, error) {
	n := len(s.labels)
	if n == 0 {
		return nil, nil
	}
	ts := make([]uint64, 2*n)
	if err := check(vk.GetQueryPoolResults(s.dev.handle, s.queries, 0, uint32(2*n), uint(8*2*n), unsafe.Pointer(&ts[0]), 8,
		vk.QueryResultFlags(vk.QueryResult64Bit|vk.QueryResultWaitBit)), "vkGetQueryPoolResults"); err != nil {
		return nil, err
	}
	period := float64(s.dev.Info.TimestampPeriod)
	mask := timestampMask(s.dev.Info.TimestampValidBits)
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(float64(timestampTicks(ts[2*i], ts[2*i+1], mask)) * period)
	}
	return out, nil
}

// variantsHash is a digest of the variants' names and their kernels'
// SPIR-V: a cached choice is trusted only for the same candidates.
func variantsHash(vs []TuneVariant) (string, error) {
	h := sha256.New()
	for _, v := range vs {
		fmt.Fprintf(h, "variant %s\n", v.Name)
		for _, name := range v.Kernels {
			kh, err := kernelHash(name)
			if err != nil {
				return "", err
			}
			fmt.Fprintf(h, "kernel %s %s\n", name, kh)
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:32], nil
}

// kernelHashes memoizes kernelHash (the SPIR-V is embedded: it never
// changes within a process).
var kernelHashes sync.Map

// kernelHash is the SHA-256 of the named kernel's SPIR-V, in hex.
func kernelHash(name string) (string, error) {
	if h, ok := kernelHashes.Load(name); ok {
		return h.(string), nil
	}
	k, err := shaders.Lookup(name)
	if err != nil {
		return "", err
	}
	spv, err := k.SPIRV()
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(spv)
	h := hex.EncodeToString(sum[:])
	kernelHashes.Store(name, h)
	return h, nil
}
