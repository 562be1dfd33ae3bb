package engine

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// tuneMargin is how much faster than the default a variant must time, in
// the race and in the rematch, to replace it (see the timing rule in
// tune_timing.go): a smaller difference is within a busy machine's noise.
const tuneMargin = 0.03

// tuneSamples is how many samples of a variant one timed round runs.
const tuneSamples = 3

// TuneVariant is one way of recording an operation.
type TuneVariant struct {
	// Name identifies the variant within its operation (e.g. "split16").
	Name string
	// Kernels are the shader-index kernels it dispatches; their SPIR-V
	// goes into the cache key, so a changed kernel is tuned again.
	Kernels []string
}

// TuneRequest asks which variant of one operation, at one shape, to record.
type TuneRequest struct {
	// Op names the operation (e.g. "pointwise_forward").
	Op string
	// Shape holds the shapes and parameters the variants' speed depends
	// on (e.g. "x=[8 24 64 64] w=[48 24 1 1]").
	Shape string
	// Variants are the eligible variants, at least one.
	Variants []TuneVariant
	// Default is the variant recorded when tuning is off (one of Variants).
	Default string
	// Bench makes scratch tensors shaped like the operation's own and
	// returns a function recording one sample of Variants[i] on them, and
	// one releasing them. It is called only when the variants are timed.
	Bench func(d *Device) (record func(s *Sequence, i int), release func(), err error)
}

// TuneResult is the tuner's answer for one operation and shape.
type TuneResult struct {
	Op, Shape string
	// Variant is the chosen variant, Default the built-in one.
	Variant, Default string
	// Source says where the choice came from: "default" (tuning off or a
	// single variant), "forced", "cache", "measured" or "failed" (timing
	// failed: the default, with a warning).
	Source string
	// Times is the time of each variant in the race of all (from the
	// cache when Source is "cache"); empty for "default" and "forced".
	Times map[string]time.Duration
	// Rematch holds the default's and the challenger's times in the
	// rematch that confirms a variant faster than the default (nil when
	// no variant beat it in the race): the challenger is chosen only when
	// it wins the rematch too.
	Rematch map[string]time.Duration
}

// Speedup is the default variant's time over the chosen one's (1 when
// either is unknown).
func (r TuneResult) Speedup() float64 {
	def, best := r.Times[r.Default], r.Times[r.Variant]
	if def <= 0 || best <= 0 {
		return 1
	}
	return float64(def) / float64(best)
}

// tuneState is one device's tuning: the decisions made so far and the disk
// cache they are stored in.
type tuneState struct {
	mu        sync.Mutex
	decided   map[string]TuneResult // by op + shape + hash
	order     []string              // keys of decided, first decision first
	cache     *tuneCache            // nil until first needed
	warnForce map[string]bool       // forced variants already warned about
	observer  func(TuneResult)      // told of every new decision
	noticed   bool                  // the first-timing notice was printed
}

var (
	tuneStatesMu sync.Mutex
	tuneStates   = map[*Device]*tuneState{}
)

func (d *Device) tuning() *tuneState {
	tuneStatesMu.Lock()
	defer tuneStatesMu.Unlock()
	st := tuneStates[d]
	if st == nil {
		st = &tuneState{decided: map[string]TuneResult{}, warnForce: map[string]bool{}}
		tuneStates[d] = st
	}
	return st
}

// TuneResults returns the decisions the tuner made on d so far, first
// first.
func (d *Device) TuneResults() []TuneResult {
	st := d.tuning()
	st.mu.Lock()
	defer st.mu.Unlock()
	out := make([]TuneResult, 0, len(st.order))
	for _, k := range st.order {
		out = append(out, st.decided[k])
	}
	return out
}

// Tune returns the variant to record for req (see TuneEnv). Only a request
// that cannot be answered (no variants, a default not among them, a bad
// switch) is an error; a failure to time or to use the cache falls back to
// the default with a warning.
func (d *Device) Tune(req TuneRequest) (TuneResult, error) {
	res := TuneResult{Op: req.Op, Shape: req.Shape, Default: req.Default, Variant: req.Default, Source: "default"}
	if len(req.Variants) == 0 || indexOfVariant(req.Variants, req.Default) < 0 {
		return res, fmt.Errorf("engine: tuning %s %s: default variant %q is not among the %d eligible ones", req.Op, req.Shape, req.Default, len(req.Variants))
	}
	enabled, err := TuningEnabled()
	if err != nil {
		return res, err
	}
	forced, err := forcedVariants()
	if err != nil {
		return res, err
	}
	hash, err := variantsHash(req.Variants)
	if err != nil {
		return res, fmt.Errorf("engine: tuning %s: %w", req.Op, err)
	}
	st := d.tuning()
	st.mu.Lock()
	defer st.mu.Unlock()
	key := req.Op + " " + req.Shape + " " + hash
	if f, ok := forced[req.Op]; ok {
		if indexOfVariant(req.Variants, f) >= 0 {
			res.Variant, res.Source = f, "forced"
			return st.remember(key, res), nil
		}
		if !st.warnForce[req.Op+"="+f] {
			st.warnForce[req.Op+"="+f] = true
			tuneWarn("%s=%s: %s has no eligible variant %q at %s (eligible: %s); using %s", TuneForceEnv, os.Getenv(TuneForceEnv), req.Op, f, req.Shape, variantNames(req.Variants), req.Default)
		}
	}
	if only := onlyOperations(); only != nil && !only[req.Op] {
		enabled = false
	}
	if !enabled || len(req.Variants) == 1 {
		return st.remember(key, res), nil
	}
	if prev, ok := st.decided[key]; ok && (prev.Source == "cache" || prev.Source == "measured" || prev.Source == "failed") {
		return prev, nil
	}
	if st.cache == nil {
		st.cache = openTuneCache(d)
	}
	if e, ok := st.cache.lookup(req.Op+" "+req.Shape, hash, req.Variants); ok {
		res.Variant, res.Source, res.Times, res.Rematch = e.Variant, "cache", e.times(), e.rematch()
		return st.remember(key, res), nil
	}
	if !st.noticed {
		st.noticed = true
		where := st.cache.path
		if where == "" {
			where = "memory only: no user cache directory"
		}
		tuneWarn("timing kernel variants on %s on their first use (cached in %s; `effv2vk tune` does it ahead, %s=off skips it)", d.Info.Name, where, TuneEnv)
	}
	m, err := d.measureVariants(req)
	if err != nil {
		tuneWarn("timing %s %s failed, using %s: %v", req.Op, req.Shape, req.Default, err)
		res.Source = "failed"
		return st.remember(key, res), nil
	}
	res.Times, res.Rematch, res.Variant, res.Source = m.times, m.rematch, m.choice, "measured"
	st.cache.store(req.Op+" "+req.Shape, hash, res)
	return st.remember(key, res), nil
}

func (st *tuneState) remember(key string, res TuneResult) TuneResult {
	if _, ok := st.decided[key]; !ok {
		st.order = append(st.order, key)
		if st.observer != nil {
			st.observer(res)
		}
	}
	st.decided[key] = res
	return res
}

// OnTune makes the tuner call fn with each new decision on d (the first
// for each operation and shape), e.g. for a progress line; nil stops it.
// fn runs while the tuner holds its lock: it must not call Tune.
func (d *Device) OnTune(fn func(TuneResult)) {
	st := d.tuning()
	st.mu.Lock()
	st.observer = fn
	st.mu.Unlock()
}

func indexOfVariant(vs []TuneVariant, name string) int {
	for i, v := range vs {
		if v.Name == name {
			return i
		}
	}
	return -1
}

func variantNames(vs []TuneVariant) string {
	names := make([]string, len(vs))
	for i, v := range vs {
		names[i] = v.Name
	}
	return strings.Join(names, ", ")
}
