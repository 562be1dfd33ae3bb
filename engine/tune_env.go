package engine

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
)

// Autotuning: an operation with more than one way to record it (ops lists
// the variants) asks Device.Tune which to record. The tuner answers, in
// order: a variant forced by TuneForceEnv; the built-in default when
// TuneEnv is "off" or TuneOnlyEnv leaves the operation out; the choice cached on disk for this device, driver and
// SPIR-V; else it times every variant with GPU timestamps on scratch
// tensors, keeps the fastest and stores the choice (see tune_cache.go).
const (
	// TuneEnv switches autotuning: "on" (the default, except in test
	// binaries, where it is "off") or "off" (every operation takes its
	// built-in default variant).
	TuneEnv = "EFFV2VK_TUNE"
	// TuneForceEnv forces variants whatever TuneEnv says:
	// "op=variant[,op=variant...]", e.g.
	// "conv2d_backward_weight=single". An operation whose variants do not
	// include the forced one is recorded with its default and a warning.
	TuneForceEnv = "EFFV2VK_TUNE_FORCE"
	// TuneOnlyEnv limits timing to the operations it lists,
	// "op[,op...]" (e.g. "conv2d_backward_data"): the others take their
	// built-in default, as with TuneEnv off, and nothing of theirs is
	// timed or cached. For quick checks of a few operations, and tests.
	TuneOnlyEnv = "EFFV2VK_TUNE_ONLY"
)

var (
	tuneWarnMu  sync.Mutex
	tuneWarnOut io.Writer = os.Stderr
)

// SetTuneWarnings sends the tuner's warnings (corrupt or stale cache, a
// forced variant that does not exist) and its one notice that it is timing
// variants to w instead of stderr, and returns a function restoring the
// previous writer. For tests.
func SetTuneWarnings(w io.Writer) (restore func()) {
	tuneWarnMu.Lock()
	prev := tuneWarnOut
	tuneWarnOut = w
	tuneWarnMu.Unlock()
	return func() {
		tuneWarnMu.Lock()
		tuneWarnOut = prev
		tuneWarnMu.Unlock()
	}
}

func tuneWarn(format string, args ...any) {
	tuneWarnMu.Lock()
	defer tuneWarnMu.Unlock()
	fmt.Fprintf(tuneWarnOut, "effv2vk: tuning: "+format+"\n", args...)
}

// TuningEnabled reports whether TuneEnv lets the tuner time variants:
// "on", or unset outside a test binary. An unknown value is an error
// naming the accepted ones.
func TuningEnabled() (bool, error) {
	switch v := os.Getenv(TuneEnv); v {
	case "":
		return !testing.Testing(), nil
	case "on", "1":
		return true, nil
	case "off", "0":
		return false, nil
	default:
		return false, fmt.Errorf("engine: %s=%q: use on or off (or unset it)", TuneEnv, v)
	}
}

// forcedVariants parses TuneForceEnv.
func forcedVariants() (map[string]string, error) {
	v := os.Getenv(TuneForceEnv)
	out := map[string]string{}
	if v == "" {
		return out, nil
	}
	for _, item := range strings.Split(v, ",") {
		op, variant, ok := strings.Cut(strings.TrimSpace(item), "=")
		if !ok || op == "" || variant == "" {
			return nil, fmt.Errorf("engine: %s=%q: want op=variant[,op=variant...], e.g. conv2d_backward_weight=single", TuneForceEnv, v)
		}
		out[op] = variant
	}
	return out, nil
}

// onlyOperations parses TuneOnlyEnv: nil when every operation is tuned.
func onlyOperations() map[string]bool {
	v := os.Getenv(TuneOnlyEnv)
	if strings.TrimSpace(v) == "" {
		return nil
	}
	out := map[string]bool{}
	for _, op := range strings.Split(v, ",") {
		if op = strings.TrimSpace(op); op != "" {
			out[op] = true
		}
	}
	return out
}
