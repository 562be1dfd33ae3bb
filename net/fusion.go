package net

// fusion says which passes a graph folds into their neighbours, saving a
// dispatch and a pass over memory each (GraphConfig.Unfused turns both off):
//
//   - residual: a residual block's sum out = branch + x is done by its last
//     unit's batch-norm forward (ops.BatchNormForwardResidual), or by its
//     conv's epilogue when batch norm is folded too. Not with drop path,
//     which scales the branch before the sum. The backward pass is the same
//     as with a separate sum: batch norm's backward never reads its output.
//   - foldBN: in a forward-only evaluation graph, batch norm with running
//     statistics is an affine map per channel, applied with the unit's SiLU
//     (and the residual) in the producing conv's epilogue (ops.Epilogue):
//     the conv's raw output is never written and no batch-norm pass runs.
//     Its scale and shift are computed from the running statistics on
//     every run (ops.BatchNormFold), so updated statistics always apply.
//   - seInProj: squeeze-excite's product x*g is left to the projection
//     conv, which scales its input by g as it reads it (a prologue:
//     ops.PointwiseForwardScaled, or ops.Epilogue.InputScale when batch
//     norm is folded); its weight gradient scales x the same way
//     (ops.PointwiseBackwardWeightScaled), and its input gradient is the
//     product's, which squeeze-excite's backward takes as before. The
//     product is never written.
//   - trainBN: in training, a unit's batch statistics and normalize are
//     one call (ops.BatchNormTrainForward: one dispatch per unit where the
//     channels fit the cache) instead of ops.BatchNormStats, then
//     ops.BatchNormForward. Not with cross-rank batch norm, which replaces
//     the statistics between the two.
//   - residualBackward: a residual block's input gradient, the branch's
//     (its expansion's data gradient) plus the block output's, is summed
//     by the expansion's data-gradient kernel as it writes
//     (ops.Conv2DBackwardDataAdd, ops.PointwiseBackwardDataAdd) instead of
//     by a separate ops.Add.
//   - bnRunning: in training, the running statistics' update is done by
//     the kernel that computes the batch statistics (ops.BatchNormRunning:
//     ops.BatchNormTrainForwardUpdate, ops.BatchNormStatsUpdate), the same
//     bits as ops.BatchNormUpdateRunning, one dispatch per batch norm
//     fewer. Not with cross-rank batch norm, whose statistics are final
//     only after the all-reduce (the separate update follows it).
//   - seBackward: squeeze-excite's input gradient, the channel scale's and
//     the pool's, in one pass (ops.SqueezeExciteBackwardData) after the
//     gate's gradient alone (ops.ChannelScaleBackwardGate), instead of
//     writing both and adding them.
//   - seGate: squeeze-excite's gate, fc1, SiLU, fc2 and sigmoid, in one
//     dispatch (ops.SqueezeExciteMLPForward), its gradients in two
//     (ops.SqueezeExciteMLPBackward), instead of four and eight; s2 (the
//     sigmoid's input) is never written.
type fusion struct {
	residual   bool
	foldBN     bool
	seInProj   bool
	seBackward bool
	trainBN    bool
	bnRunning  bool
	seGate     bool
	// residualBackward is named in full: gradSum in block.
	residualBackward bool
}

func newFusion(gc GraphConfig) fusion {
	if gc.Unfused {
		return fusion{}
	}
	return fusion{residual: true, foldBN: !gc.Train && !gc.Backward, seInProj: true, seBackward: true, trainBN: true, bnRunning: true, seGate: true, residualBackward: true}
}
