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

// Timing rule. Each variant's sequence records tuneSamples samples of it
// back to back, after an untimed lead-in sample; one run of a sequence is
// a round, and a variant's round time is the least of its samples there
// (noise on a shared machine only adds time). Rounds go on, the variants
// taking turns and the first of a round rotating, until every variant has
// run tuneMinTime of samples and tuneMinRounds rounds (short kernels get
// more rounds), at most tuneMaxRounds; a variant's time is the median of
// its round times (long kernels run the fewest rounds: 3 after the
// warm-up, as the rule before this one, which kept the tuning of a large
// model within minutes). A variant other than the default must beat it by
// tuneMargin twice: in that race, and in a rematch of the two alone. The
// rematch runs two sequences whose samples alternate (default,
// challenger, challenger, default, default, challenger, and its mirror),
// so that both run in the same rounds, moments apart, at the same places;
// its kernels are warm, so it starts at once and runs at least
// tuneRematchRounds rounds of both sequences (four paired comparisons)
// under the same time rule. There the median of the challenger's round
// time over the default's in the same round must be below 1-tuneMargin,
// the challenger must win at least tuneRematchWins of the rounds, and a
// sign test must rule out luck (judgeRematch: fewer than tuneRematchAlpha
// of equally fast pairs would win as many rounds, so at least ten rounds
// won of ten); while the challenger leads without that, the rematch goes
// on, up to tuneMaxRounds. Otherwise the default stays.
const (
	tuneMinRounds     = 3
	tuneRematchRounds = 2
	tuneMaxRounds     = 25
	tuneMinTime       = 15 * time.Millisecond
	tuneRematchWins   = 2.0 / 3
)

// tuneMaxDispatches bounds the dispatches of one timed sequence (a
// rematch sequence holds seven samples).
const tuneMaxDispatches = 4096

// tuneMeasurement is what timing the variants of one request found.
type tuneMeasurement struct {
	// times and rematch are the variants' times in the race of all and in
	// the rematch (nil when none was needed).
	times, rematch map[string]time.Duration
	// choice is the variant to keep.
	choice string
}

// measureVariants times the variants of req on scratch tensors (see the
// timing rule above) and returns the variant to keep.
func (d *Device) measureVariants(req TuneRequest) (tuneMeasurement, error) {
	var m tuneMeasurement
	if !d.Info.TimestampsOnCompute {
		return m, fmt.Errorf("%s has no timestamps on its compute queue", d.Info.Name)
	}
	if req.Bench == nil {
		return m, fmt.Errorf("no bench for %s", req.Op)
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
		return m, err
	}
	defer release()
	var seqs []*timedSequence
	defer func() {
		for _, ts := range seqs {
			ts.seq.Release()
		}
	}()
	for i, v := range req.Variants {
		ts, err := d.newTimedSequence(req.Op+" "+v.Name, record, repeatVariant(i, tuneSamples))
		if err != nil {
			return m, fmt.Errorf("variant %s: %w", v.Name, err)
		}
		seqs = append(seqs, ts)
	}
	m.choice = req.Default
	race, err := d.race(seqs, true, func(round int, rt raceTally) bool {
		return round >= tuneMinRounds && rt.timedFor(tuneMinTime)
	})
	if err != nil {
		return m, err
	}
	m.times = race.times(req.Variants)
	def, best := indexOfVariant(req.Variants, req.Default), -1
	for i, v := range req.Variants {
		if i != def && (best < 0 || m.times[v.Name] < m.times[req.Variants[best].Name]) {
			best = i
		}
	}
	if best < 0 || !beats(m.times, req.Variants[best].Name, req.Default) {
		return m, nil
	}
	var pair []*timedSequence
	for _, order := range [][]int{{def, best, best, def, def, best}, {best, def, def, best, best, def}} {
		ts, err := d.newTimedSequence(req.Op+" rematch", record, order)
		if err != nil {
			return m, fmt.Errorf("rematch of %s and %s: %w", req.Default, req.Variants[best].Name, err)
		}
		seqs = append(seqs, ts)
		pair = append(pair, ts)
	}
	again, err := d.race(pair, false, func(round int, rt raceTally) bool {
		return round >= tuneRematchRounds && rt.timedFor(tuneMinTime) && judgeRematch(rt.paired(best, def)) != rematchUndecided
	})
	if err != nil {
		return m, err
	}
	m.rematch = again.times(req.Variants)
	if judgeRematch(again.paired(best, def)) == rematchSwitch {
		m.choice = req.Variants[best].Name
	}
	return m, nil
}

// repeatVariant is n samples of variant i.
func repeatVariant(i, n int) []int {
	out := make([]int, n)
	for k := range out {
		out[k] = i
	}
	return out
}

// beats reports whether variant a timed at least tuneMargin faster than b.
func beats(times map[string]time.Duration, a, b string) bool {
	return float64(times[a]) < float64(times[b])*(1-tuneMargin)
}

// raceTally is what a race measured: by variant index, each kept round's
// time (the least of the variant's samples in it) and the total time of
// its samples.
type raceTally struct {
	rounds map[int][]time.Duration
	total  map[int]time.Duration
}

// times is the median round time of each variant raced, by name.
func (rt raceTally) times(vs []TuneVariant) map[string]time.Duration {
	out := map[string]time.Duration{}
	for i, r := range rt.rounds {
		s := append([]time.Duration(nil), r...)
		sort.Slice(s, func(a, b int) bool { return s[a] < s[b] })
		out[vs[i].Name] = s[len(s)/2]
	}
	return out
}

// paired compares variants a and b round by round (in a rematch both run
// in every round, moments apart, so a slow spell of the machine charges
// both): it returns the median of a's round time over b's, the rounds a
// took less time in, and the rounds compared.
func (rt raceTally) paired(a, b int) (float64, int, int) {
	ra, rb := rt.rounds[a], rt.rounds[b]
	n, won := min(len(ra), len(rb)), 0
	if n == 0 {
		return 1, 0, 0
	}
	ratios := make([]float64, n)
	for r := range n {
		ratios[r] = float64(ra[r]) / float64(max(rb[r], 1))
		if ra[r] < rb[r] {
			won++
		}
	}
	sort.Float64s(ratios)
	return ratios[n/2], won, n
}

// race runs the timed sequences (a warm-up round first when warmUp, then
// timed rounds, the first of each round rotating) until done says so
// after a round, or tuneMaxRounds, and tallies their samples.
func (d *Device) race(seqs []*timedSequence, warmUp bool, done func(round int, rt raceTally) bool) (raceTally, error) {
	rt := raceTally{rounds: map[int][]time.Duration{}, total: map[int]time.Duration{}}
	first := 1
	if warmUp {
		first = 0 // round 0 warms up
	}
	for round := first; ; round++ {
		for k := range seqs {
			ts := seqs[(k+round)%len(seqs)]
			if err := ts.run(d, round > 0, rt); err != nil {
				return rt, fmt.Errorf("%s: %w", ts.seq.Name, err)
			}
		}
		if round >= tuneMaxRounds || (round > 0 && done(round, rt)) {
			return rt, nil
		}
	}
}

// timedFor reports whether every variant raced has run at least least of
// samples.
func (rt raceTally) timedFor(least time.Duration) bool {
	for _, t := range rt.total {
		if t < least {
			return false
		}
	}
	return len(rt.total) > 0
}

// timedSequence is a profiled sequence of samples, each of one variant.
type timedSequence struct {
	seq    *Sequence
	bounds []int // sample k is dispatches bounds[k] to bounds[k+1]
	owner  []int // sample k runs variant owner[k]
}

// newTimedSequence records one sample of variant owner[k] for each k,
// after an untimed lead-in sample of owner[0].
func (d *Device) newTimedSequence(name string, record func(s *Sequence, i int), owner []int) (*timedSequence, error) {
	s, err := d.NewSequence("tune "+name, SequenceOptions{Profile: true, MaxDispatches: tuneMaxDispatches})
	if err != nil {
		return nil, err
	}
	// A lead-in sample, not timed: the first dispatch after a submit also
	// pays for waking the device (on lavapipe its worker threads), which
	// would bias the least of a round against the variant that opens it.
	record(s, owner[0])
	ts := &timedSequence{seq: s, bounds: []int{s.dispatches}, owner: owner}
	for _, i := range owner {
		record(s, i)
		if s.err == nil && s.dispatches == ts.bounds[len(ts.bounds)-1] {
			s.fail(fmt.Errorf("a sample recorded no dispatch"))
		}
		ts.bounds = append(ts.bounds, s.dispatches)
	}
	if err := s.Finish(); err != nil {
		s.Release()
		return nil, err
	}
	return ts, nil
}

// run runs the sequence once and, when keep, adds each of its variants'
// round time and sample times to rt.
func (ts *timedSequence) run(d *Device, keep bool, rt raceTally) error {
	if err := d.Run(ts.seq); err != nil {
		return err
	}
	if !keep {
		return nil
	}
	per, err := ts.seq.dispatchTimes()
	if err != nil {
		return err
	}
	least := map[int]time.Duration{}
	for k, i := range ts.owner {
		var t time.Duration
		for _, p := range per[ts.bounds[k]:ts.bounds[k+1]] {
			t += p
		}
		rt.total[i] += t
		if l, ok := least[i]; !ok || t < l {
			least[i] = t
		}
	}
	for i, l := range least {
		rt.rounds[i] = append(rt.rounds[i], l)
	}
	return nil
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
