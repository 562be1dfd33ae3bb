package ops

import (
	"fmt"
	"maps"
	"slices"

	"github.com/effv2vk/effv2vk/engine"
)

// The squeeze-excite gate (fc1, SiLU, fc2, sigmoid) as one dispatch
// forward and two backward (shaders/squeeze_excite_mlp.comp), where the
// unfused path records LinearForward, SiLUForward, LinearForward,
// SigmoidForward (four dispatches) and SigmoidBackward, LinearBackward,
// SiLUBackward, LinearBackward (eight).

// seMLPShape holds the checked sizes of a squeeze-excite gate: batch N,
// channels C, hidden units Q.
type seMLPShape struct{ n, c, q int }

// seMLPCheck checks pooled [N,C], w1 [Q,C], w2 [C,Q] (weights may also be
// [rows, cols, 1, 1]) and the per-sample [N,C] and [N,Q] tensors named in
// wide and narrow; it records an error in s and returns false otherwise.
func seMLPCheck(s *engine.Sequence, op string, pooled, w1, w2 *engine.Tensor, wide, narrow map[string]*engine.Tensor) (seMLPShape, bool) {
	n, c, ok := matrixShape(s, op, "pooled", pooled)
	if !ok {
		return seMLPShape{}, false
	}
	q, wc, ok := matrixShape(s, op, "w1", w1)
	if !ok {
		return seMLPShape{}, false
	}
	if wc != c {
		s.Fail(fmt.Errorf("%s: pooled %s does not match fc1 weight %s (C %d vs %d)", op, pooled, w1, c, wc))
		return seMLPShape{}, false
	}
	if !wantMatrix(s, op, "w2", w2, c, q) {
		return seMLPShape{}, false
	}
	for _, role := range sortedRoles(wide) {
		if !wantMatrix(s, op, role, wide[role], n, c) {
			return seMLPShape{}, false
		}
	}
	for _, role := range sortedRoles(narrow) {
		if !wantMatrix(s, op, role, narrow[role], n, q) {
			return seMLPShape{}, false
		}
	}
	return seMLPShape{n: n, c: c, q: q}, true
}

// sortedRoles returns m's keys in a fixed order (errors name the same
// tensor run after run).
func sortedRoles(m map[string]*engine.Tensor) []string {
	return slices.Sorted(maps.Keys(m))
}

// seMLPLocal is the per-sample kernels' workgroup size on d (the
// elementwise local size: 64 on a CPU driver, 256 on GPUs), or an error
// when its reduction partials (a vec4 per invocation) and the Q-long
// hidden vector do not fit the device's shared memory.
func seMLPLocal(d *engine.Device, q int) (uint32, error) {
	local := elementwiseLocal(d)
	if need := 16*int(local) + 4*q; need > int(d.Info.MaxSharedMemory) {
		return 0, fmt.Errorf("squeeze-excite gate: %d hidden units need %d bytes of shared memory, the device has %d: use GraphConfig.Unfused", q, need, d.Info.MaxSharedMemory)
	}
	return local, nil
}

// seMLPKernel returns a per-sample kernel of squeeze_excite_mlp.comp built
// for Q hidden units.
func seMLPKernel(s *engine.Sequence, op, name string, q int) *engine.Kernel {
	local, err := seMLPLocal(s.Device(), q)
	if err != nil {
		s.Fail(fmt.Errorf("%s: %w", op, err))
		return nil
	}
	return s.Kernel(name, engine.Spec{ID: 0, Value: local}, engine.Spec{ID: 1, Value: uint32(q)})
}

// seMLPGrid is one workgroup per sample.
func seMLPGrid(s *engine.Sequence, op string, n int) (engine.Grid, bool) {
	g, err := s.Device().FoldGroups(n)
	if err != nil {
		s.Fail(fmt.Errorf("%s: batch %d: %w", op, n, err))
		return engine.Grid{}, false
	}
	return g, true
}

// SqueezeExciteMLPForward records the squeeze-excite gate in one dispatch
// (an autotuned variant, tune_squeeze_excite_mlp.go),
// from pooled [N,C] with fc1 w1 [Q,C] b1 [Q] and fc2 w2 [C,Q] b2 [C]:
//
//	s1[n,q] = b1[q] + sum_c pooled[n,c] * w1[q,c]    [N,Q]
//	a1[n,q] = s1[n,q] * sigmoid(s1[n,q])              [N,Q]
//	g[n,c]  = sigmoid(b2[c] + sum_q a1[n,q] * w2[c,q]) [N,C]
//
// It equals LinearForward, SiLUForward, LinearForward, SigmoidForward
// within float32 rounding. Weights may also be [rows, cols, 1, 1].
func SqueezeExciteMLPForward(s *engine.Sequence, s1, a1, g, pooled, w1, b1, w2, b2 *engine.Tensor) {
	const op = "squeeze-excite gate forward"
	sh, ok := seMLPCheck(s, op, pooled, w1, w2, map[string]*engine.Tensor{"g": g}, map[string]*engine.Tensor{"s1": s1, "a1": a1})
	if !ok || !wantVector(s, op, "b1", b1, sh.q) ||
		!wantVector(s, op, "b2", b2, sh.c) {
		return
	}
	c := seMLPForwardCall{sh: sh, s1: s1, a1: a1, g: g, pooled: pooled, w1: w1, b1: b1, w2: w2, b2: b2}
	if len(seMLPForwardTuned.eligibleVariants(s.Device(), c)) == 0 {
		if _, err := seMLPLocal(s.Device(), sh.q); err != nil { // the shared memory's error
			s.Fail(fmt.Errorf("%s: %w", op, err))
			return
		}
		s.Fail(fmt.Errorf("%s: %d hidden units do not fit this device's shared memory (%d bytes): use GraphConfig.Unfused", op, sh.q, s.Device().Info.MaxSharedMemory))
		return
	}
	seMLPForwardTuned.record(s, c)
}

// SqueezeExciteMLPBackward records the gradients of SqueezeExciteMLPForward
// from dg [N,C], the gradient of the gate g, in two dispatches (an
// autotuned variant, tune_squeeze_excite_mlp_backward.go): per sample (ds2,
// ds1, dpooled), then the parameter gradients summed over the batch in a
// fixed order. All outputs are overwritten:
//
//	ds2[n,c]     = dg[n,c] * g[n,c] * (1 - g[n,c])                   [N,C]
//	ds1[n,q]     = SiLU'(s1[n,q]) * sum_c ds2[n,c] * w2[c,q]         [N,Q]
//	dpooled[n,c] = sum_q ds1[n,q] * w1[q,c]                          [N,C]
//	dw1[q,c] = sum_n ds1[n,q] * pooled[n,c];  db1[q] = sum_n ds1[n,q]
//	dw2[c,q] = sum_n ds2[n,c] * a1[n,q];      db2[c] = sum_n ds2[n,c]
//
// s1 and a1 are SqueezeExciteMLPForward's; dw1/dw2 have w1/w2's shapes.
func SqueezeExciteMLPBackward(s *engine.Sequence, dpooled, dw1, db1, dw2, db2, ds2, ds1, dg, g, s1, a1, pooled, w1, w2 *engine.Tensor) {
	const op = "squeeze-excite gate backward"
	sh, ok := seMLPCheck(s, op, pooled, w1, w2,
		map[string]*engine.Tensor{"dpooled": dpooled, "ds2": ds2, "dg": dg, "g": g},
		map[string]*engine.Tensor{"ds1": ds1, "s1": s1, "a1": a1})
	if !ok || !wantMatrix(s, op, "dw1", dw1, sh.q, sh.c) || !wantMatrix(s, op, "dw2", dw2, sh.c, sh.q) ||
		!wantVector(s, op, "db1", db1, sh.q) ||
		!wantVector(s, op, "db2", db2, sh.c) {
		return
	}
	c := seMLPBackwardCall{sh: sh, dpooled: dpooled, dw1: dw1, db1: db1, dw2: dw2, db2: db2, ds2: ds2, ds1: ds1,
		dg: dg, g: g, s1: s1, a1: a1, pooled: pooled, w1: w1, w2: w2}
	if len(seMLPBackwardTuned.eligibleVariants(s.Device(), c)) == 0 {
		s.Fail(fmt.Errorf("%s: %d hidden units do not fit this device's shared memory (%d bytes): use GraphConfig.Unfused", op, sh.q, s.Device().Info.MaxSharedMemory))
		return
	}
	seMLPBackwardTuned.record(s, c)
}
