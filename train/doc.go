// Package train owns the training loop of effv2vk, shaped like the paper's
// Algorithm 1: for each progressive stage, set the image size and the
// regularization (dropout, RandAugment magnitude, mixup alpha) and record
// the network once; for each batch, upload, run forward + backward +
// optimizer + EMA as one replayed command buffer, and log. A single process
// keeps the next step queued behind the running one (pipeline.go: two host
// slots for inputs and metrics, the loss read a step late) and drains the
// queue wherever the state must be one step's: checkpoints, snapshots,
// evaluation, an interruption, hooks.
//
// It also owns what a run leaves in its output directory: metrics.jsonl
// (one JSON object per training step or evaluation), snapshot.json (recent
// samples, feature maps and kernel times, for `effv2vk visualize`),
// config.json, and checkpoints (safetensors with the model, optimizer state,
// EMA and the position in the schedule), written atomically so that a crash
// at any moment leaves the last checkpoint intact. Resuming continues
// bitwise: the same seed on the same device gives the same losses as an
// uninterrupted run. Checkpoints come at epoch ends and, within an epoch,
// every Config.CheckpointEvery steps (by default about every
// CheckpointMinutes of training).
//
// A run may start from torchvision-named weights (Config.Init, fine-tuning;
// a classifier for another class count is re-initialized) and keep its
// first feature modules fixed (Config.Freeze). Outside training, the
// package opens checkpoints (OpenCheckpoint: Weights, Evaluate, Predict)
// and times a model's training step (BenchModel).
//
// Launched by mpirun (package dist), each process is one rank of a
// data-parallel run: it trains its slice of every global batch, the
// gradients are averaged across ranks once per step, rank 0 alone writes
// the output directory, and evaluation is split across ranks
// (distributed.go). A single process never touches MPI.
package train
