// Package optim owns the training-time updates of a model's parameters on
// the device: the optimizers (TF-style RMSProp as in EfficientNetV2, SGD with
// momentum, AdamW), the exponential moving average of weights and batch-norm
// statistics, and the learning-rate schedules. It knows nothing of the
// model's structure: it sees flat float32 tensors.
//
// # Groups
//
// An optimizer updates a list of Groups, each a pair of equal-length tensors
// (parameters and their gradients) with a weight decay. net.Store keeps every
// trainable parameter in one flat tensor, weight-decayed ones first, so a
// model is two groups; SplitDecay cuts them:
//
//	groups, err := optim.SplitDecay(d, st.Params, st.Grads, st.DecayLen, 1e-5)
//	opt, err := optim.New("rmsprop", d, groups, optim.DefaultConfig())
//
// Every group is one elementwise dispatch (vec4s of four elements, several
// per invocation); how a kernel is launched (workgroup size, vec4s per
// invocation, texel or storage-buffer reads) is engine's autotuner's choice
// per device, with a built-in default per device type (see tune.go).
// Each optimizer allocates its state (moments) as tensors of its own, listed
// by State for checkpoints.
//
// # Record once, step many times
//
// Record adds the update to a sequence once; values that change every step
// (the learning rate, Adam's bias corrections, the EMA decay under warmup)
// live in a small tensor the optimizer owns, rewritten by SetStep before each
// run of the sequence, so nothing is re-recorded:
//
//	opt.Record(seq) // after the backward pass
//	for step := 0; ; step++ {
//		if err := opt.SetStep(step, sched.At(epoch)); err != nil { ... }
//		if err := d.Run(seq); err != nil { ... }
//	}
//
// Steps count from 0: step is the number of updates already applied.
//
// # Schedules
//
// Schedule.At(epoch) is pure Go: linear warmup from 0, then the paper's
// exponential decay (x0.97 every 2.4 epochs) or a cosine to 0, as the
// official EfficientNetV2 code computes them.
package optim
