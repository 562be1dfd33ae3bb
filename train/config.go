package train

import (
	"fmt"
	"math"
	"strings"
)

// Config is everything a training run is made of. Zero values take the
// defaults of Defaults.
type Config struct {
	Model   string `json:"model"`
	Dataset string `json:"dataset"` // fashion-mnist, imagefolder, cifar10, cifar100
	DataDir string `json:"data_dir"`
	// TrainLimit and TestLimit, when > 0, use only the first N images of
	// each split (quick runs and tests).
	TrainLimit int `json:"train_limit,omitempty"`
	TestLimit  int `json:"test_limit,omitempty"`

	Epochs    int `json:"epochs"`
	BatchSize int `json:"batch_size"`

	Optimizer      string  `json:"optimizer"` // rmsprop, sgd, adamw
	LR             float64 `json:"lr"`        // peak learning rate
	WarmupEpochs   float64 `json:"warmup_epochs"`
	LRSchedule     string  `json:"lr_schedule"` // exponential, cosine
	WeightDecay    float64 `json:"weight_decay"`
	LabelSmoothing float64 `json:"label_smoothing"`
	EMADecay       float64 `json:"ema_decay"` // 0 turns EMA off
	// CutMixAlpha turns on CutMix with lambda ~ Beta(alpha, alpha) in every
	// stage (0: off). With the stage's Mixup also on, each batch uses one
	// of the two, at even odds.
	CutMixAlpha float64 `json:"cutmix_alpha,omitempty"`

	Progressive bool `json:"progressive"`
	Stages      int  `json:"stages"`
	MinSize     int  `json:"min_size"` // first stage's image size (0: the preset's)
	MaxSize     int  `json:"max_size"` // last stage's image size (0: the preset's)

	Seed   uint64 `json:"seed"`
	Device string `json:"device"`
	OutDir string `json:"out_dir"`
	Resume bool   `json:"-"`
	// Overwrite lets a new run delete another run's metrics and
	// checkpoints in OutDir (without it, such a directory is refused).
	Overwrite bool `json:"-"`
	KeepLast  int  `json:"keep_last"` // checkpoints kept besides best
	Workers   int  `json:"workers"`
	// EvalBatch is the batch size of evaluation.
	EvalBatch int `json:"eval_batch"`
	// SnapshotEvery writes snapshot.json every N steps (0: 50).
	SnapshotEvery int `json:"snapshot_every"`
	// SkipCorrupt skips (and counts) unreadable images instead of stopping.
	SkipCorrupt bool `json:"skip_corrupt"`
	// Profile records per-kernel GPU times (shown by visualize).
	Profile bool `json:"profile"`
	// SyncBN computes batch-norm training statistics over the global batch
	// of a multi-rank run (forward and backward) instead of each rank's
	// slice; nothing changes in one process.
	SyncBN bool `json:"sync_bn,omitempty"`
	// Init, when set, starts a new run from torchvision-named weights
	// (fine-tuning; see net.ReadInitWeights). A resumed run ignores it.
	Init string `json:"init,omitempty"`
	// Freeze keeps torchvision's features.0 (the stem) .. features.Freeze-1
	// fixed: no gradients, no updates, batch norm on running statistics.
	Freeze int `json:"freeze,omitempty"`
	// CheckpointEvery writes a checkpoint every N steps within an epoch
	// (0: derived from the step time, about every CheckpointMinutes; -1:
	// only at epoch ends). See checkpoint_every.go.
	CheckpointEvery int `json:"checkpoint_every,omitempty"`
	// AfterStep, when set, is called after every training step with the
	// number of steps done and the step's loss (progress hooks, tests).
	AfterStep func(step int, loss float64) `json:"-"`
}

// Defaults returns the default run: the small efficientnetv2-pico on
// Fashion-MNIST with progressive learning.
func Defaults() Config {
	return Config{
		Model: "efficientnetv2-pico", Dataset: "fashion-mnist",
		Epochs: 3, BatchSize: 64,
		Optimizer: "rmsprop", LR: 0.004, WarmupEpochs: 1, LRSchedule: "cosine",
		WeightDecay: 1e-5, LabelSmoothing: 0.1, EMADecay: 0.999,
		Progressive: true, Stages: 3,
		Seed: 1, OutDir: "runs/latest", KeepLast: 2, Workers: 2, EvalBatch: 200, SnapshotEvery: 50,
	}
}

// validate checks the config and names the first bad setting.
func (c Config) validate() error {
	switch {
	case c.Epochs < 1:
		return fmt.Errorf("train: --epochs %d: need at least 1", c.Epochs)
	case c.BatchSize < 2:
		return fmt.Errorf("train: --batch-size %d: batch norm needs at least 2 images per batch", c.BatchSize)
	case !(c.LR >= 0) || math.IsInf(c.LR, 1):
		return fmt.Errorf("train: --lr %g: must be >= 0 (0 keeps the weights as they are)", c.LR)
	case c.CheckpointEvery < -1:
		return fmt.Errorf("train: --checkpoint-every %d: want N > 0 steps, 0 for the default (about every %d minutes) or -1 for epoch ends only", c.CheckpointEvery, CheckpointMinutes)
	case c.WarmupEpochs < 0 || c.WarmupEpochs >= float64(c.Epochs):
		return fmt.Errorf("train: --warmup-epochs %g: must be >= 0 and below --epochs %d", c.WarmupEpochs, c.Epochs)
	case c.LabelSmoothing < 0 || c.LabelSmoothing >= 1:
		return fmt.Errorf("train: --label-smoothing %g: must be in [0, 1)", c.LabelSmoothing)
	case c.EMADecay < 0 || c.EMADecay >= 1:
		return fmt.Errorf("train: --ema-decay %g: must be in [0, 1)", c.EMADecay)
	case !(c.CutMixAlpha >= 0) || math.IsInf(c.CutMixAlpha, 1):
		return fmt.Errorf("train: --cutmix %g: want a Beta alpha > 0, or 0 for off", c.CutMixAlpha)
	case c.Stages < 1:
		return fmt.Errorf("train: --stages %d: need at least 1", c.Stages)
	case c.Progressive && c.Epochs < c.Stages:
		return fmt.Errorf("train: %d epochs cannot fill %d progressive stages: raise --epochs or lower --stages", c.Epochs, c.Stages)
	case c.MinSize < 0 || c.MaxSize < 0 || (c.MinSize > 0 && c.MaxSize > 0 && c.MinSize > c.MaxSize):
		return fmt.Errorf("train: image sizes %d -> %d: need 0 < min <= max", c.MinSize, c.MaxSize)
	case c.OutDir == "":
		return fmt.Errorf("train: --out is empty")
	case c.EvalBatch < 1:
		return fmt.Errorf("train: eval batch %d: need at least 1", c.EvalBatch)
	}
	switch strings.ToLower(c.Dataset) {
	case "fashion-mnist", "imagefolder", "cifar10", "cifar100":
	default:
		return fmt.Errorf("train: --dataset %q: want fashion-mnist, imagefolder, cifar10 or cifar100", c.Dataset)
	}
	return nil
}

// compatible says whether a checkpoint written under c can be resumed under
// now: everything that shapes the run must agree.
func (c Config) compatible(now Config) error {
	type field struct {
		name     string
		old, new any
	}
	for _, f := range []field{
		{"model", c.Model, now.Model}, {"dataset", c.Dataset, now.Dataset}, {"epochs", c.Epochs, now.Epochs},
		{"batch-size", c.BatchSize, now.BatchSize}, {"optimizer", c.Optimizer, now.Optimizer}, {"lr", c.LR, now.LR},
		{"progressive", c.Progressive, now.Progressive}, {"stages", c.Stages, now.Stages}, {"seed", c.Seed, now.Seed},
		{"min-size", c.MinSize, now.MinSize}, {"max-size", c.MaxSize, now.MaxSize},
		{"train-limit", c.TrainLimit, now.TrainLimit}, {"ema-decay", c.EMADecay, now.EMADecay},
		{"cutmix", c.CutMixAlpha, now.CutMixAlpha}, {"freeze", c.Freeze, now.Freeze},
	} {
		if f.old != f.new {
			return fmt.Errorf("train: cannot resume: the checkpoint was made with --%s %v, this run has %v (use the same flags or a new --out)", f.name, f.old, f.new)
		}
	}
	return nil
}
