package train

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"time"

	"github.com/effv2vk/effv2vk/data"
	"github.com/effv2vk/effv2vk/dist"
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
	"github.com/effv2vk/effv2vk/net/arch"
	"github.com/effv2vk/effv2vk/optim"
	"github.com/effv2vk/effv2vk/progressive"
)

// ErrInterrupted is returned when the context is cancelled (Ctrl-C): a
// checkpoint of the position reached was written first.
var ErrInterrupted = errors.New("train: interrupted; a checkpoint was written: continue with --resume")

// Result sums up a run.
type Result struct {
	Steps        int
	Seconds      float64 // wall time of this process's training, evaluation included
	FinalTop1    float64
	FinalTop5    float64
	FinalEMATop1 float64
	BestTop1     float64
	Losses       []float64 // loss of every step this process ran, in order
	// Validation holds the validation layer's messages (only with
	// EFFV2VK_VALIDATE=1): any message means a bug in effv2vk.
	Validation []string
	// AlreadyDone says a resumed run had finished every step already:
	// nothing was trained (BestTop1 is the run's).
	AlreadyDone bool
	// Rank is this process's rank in a multi-process run (0 otherwise):
	// rank 0 reports for the job.
	Rank int
}

// run is the state of one training run.
type run struct {
	cfg      Config
	out      io.Writer
	dev      *engine.Device
	model    *net.Model
	mc       arch.Config
	opt      optim.Optimizer
	ema      *optim.EMA
	emaSwap  *engine.Sequence // exchanges live weights and EMA averages
	groups   []optim.Group
	sched    progressive.Schedule
	lr       optim.Schedule
	trainDS  data.Dataset
	testDS   data.Dataset
	mean     [3]float32
	std      [3]float32
	pos      position
	metrics  *metricsLog
	bar      *progress
	perEpoch int
	evalSize int // the current stage's image size
	raw      int // side of the uint8 images fed to the device
	// channels and testChannels are the image channels (1 or 3) of the
	// training and the test split.
	channels, testChannels int
	evalG                  *net.Graph

	comm      *dist.Comm       // this process's place in the job (Size 1 without mpirun)
	update    *engine.Sequence // optimizer and EMA, run after the gradient all-reduce (several ranks only)
	reduceBuf []float32        // host buffer of the gradient all-reduce
	init      *net.InitWeights // --init weights until loaded
	ckpts     *checkpointClock // when mid-epoch checkpoints are due
}

// Run trains as cfg says, writing metrics, snapshots and checkpoints to
// cfg.OutDir. Progress goes to out (nil: silent). Cancelling ctx writes a
// checkpoint and returns ErrInterrupted.
func Run(ctx context.Context, cfg Config, out io.Writer) (*Result, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	comm, err := dist.Join()
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, out: out, comm: comm}
	if !r.leader() {
		r.out = nil // rank 0 alone shows progress
	}
	if err := r.setup(); err != nil {
		r.close()
		return nil, r.rankError(err)
	}
	res, err := r.train(ctx)
	if finishedHook != nil {
		finishedHook(r)
	}
	msgs := r.close()
	if res != nil {
		res.Validation = msgs
	}
	return res, r.rankError(err)
}

func (r *run) warn(format string, args ...any) {
	if r.out != nil {
		fmt.Fprintf(r.out, "warning: "+format+"\n", args...)
	}
}

func (r *run) setup() error {
	cfg := r.cfg
	if r.comm == nil {
		r.comm = dist.Single() // a run made without Run (tests) is one process
	}
	if err := r.checkRanks(); err != nil {
		return err
	}
	var err error
	if r.trainDS, r.testDS, err = openDatasets(cfg); err != nil {
		return err
	}
	shape, err := dataShape(r.trainDS, r.testDS)
	if err != nil {
		return err
	}
	if err := r.describe(shape); err != nil {
		return err
	}
	if !cfg.Resume {
		if err := r.readInit(); err != nil {
			return err
		}
	}
	if r.lr, err = optim.NewSchedule(cfg.LRSchedule, cfg.LR, cfg.WarmupEpochs, float64(cfg.Epochs)); err != nil {
		return err
	}
	r.perEpoch = data.BatchesPerEpoch(r.trainDS.Len(), cfg.BatchSize, true)
	if r.perEpoch < 1 {
		return fmt.Errorf("train: %d training images make no batch of %d", r.trainDS.Len(), cfg.BatchSize)
	}
	if r.leader() {
		if err := prepareOutDir(cfg); err != nil {
			return err
		}
	}
	if r.dev, err = engine.Open(engine.Options{Select: r.deviceSelector()}); err != nil {
		return err
	}
	if err := r.build(); err != nil {
		return err
	}
	if err := r.recordUpdate(); err != nil {
		return err
	}
	return r.agree()
}

// describe derives from the config and the data's shape what the run's
// graphs are made of: the model, the input's normalization and size, the
// progressive schedule.
func (r *run) describe(shape DataShape) error {
	cfg := r.cfg
	var err error
	if r.mc, err = arch.Lookup(cfg.Model, shape.Classes); err != nil {
		return err
	}
	if err := r.checkFreeze(); err != nil {
		return err
	}
	r.mean, r.std = normalization(cfg.Dataset)
	r.raw, r.channels, r.testChannels = shape.Side, shape.Channels, shape.TestChannels
	preset, err := progressive.PresetFor(cfg.Model)
	if err != nil {
		return err
	}
	if cfg.MinSize > 0 || cfg.MaxSize > 0 {
		lo, hi := preset.ImageSize.Min, preset.ImageSize.Max
		if cfg.MinSize > 0 {
			lo = cfg.MinSize
		}
		if cfg.MaxSize > 0 {
			hi = cfg.MaxSize
		}
		preset = preset.WithImageSize(lo, hi)
	}
	if cfg.Progressive {
		preset = preset.WithStages(cfg.Stages)
	} else {
		// Fixed size: the last stage's size and regularization throughout.
		preset = preset.WithStages(1)
	}
	if r.sched, err = progressive.Plan(preset, cfg.Epochs); err != nil {
		return err
	}
	r.evalSize = r.sched.Stages[0].ImageSize
	return nil
}

// build makes the model, the optimizer's groups and state and the EMA on
// r.dev.
func (r *run) build() error {
	cfg := r.cfg
	slots, err := optim.StateSlots(cfg.Optimizer)
	if err != nil {
		return err
	}
	if err := net.PlanState(r.dev, r.mc, slots, cfg.EMADecay > 0).Check(r.dev, "training"); err != nil {
		return err
	}
	if r.model, err = net.NewModel(r.dev, r.mc, cfg.Seed); err != nil {
		return err
	}
	if r.groups, err = r.parameterGroups(); err != nil {
		return err
	}
	if r.opt, err = optim.New(cfg.Optimizer, r.dev, r.groups, optim.DefaultConfig()); err != nil {
		return err
	}
	if cfg.EMADecay > 0 {
		if r.ema, err = optim.NewEMA(r.dev, r.model.Store.Params, r.model.Store.Stats, cfg.EMADecay); err != nil {
			return err
		}
		// Short runs (the demo's few thousand steps) need the decay warmup
		// for the average to leave the initial weights behind.
		r.ema.Warmup = true
	}
	return nil
}

// close releases everything in reverse order, the device included, and
// returns the validation messages collected (none unless validation is on).
func (r *run) close() []string {
	if r.metrics != nil {
		r.metrics.close()
	}
	r.release()
	if r.dev == nil {
		return nil
	}
	r.dev.Close()
	return r.dev.ValidationMessages()
}

// release frees the graphs, sequences, optimizer, EMA and model on the
// device, in reverse order.
func (r *run) release() {
	if r.evalG != nil {
		r.evalG.Free()
	}
	if r.ema != nil {
		r.ema.Free()
	}
	if r.emaSwap != nil {
		r.emaSwap.Release()
	}
	if r.update != nil {
		r.update.Release()
	}
	if r.opt != nil {
		r.opt.Free()
	}
	optim.FreeGroups(r.groups)
	if r.model != nil {
		r.model.Free()
	}
}

// stateTensors are the tensors a checkpoint holds besides the model.
func (r *run) stateTensors() []namedTensor {
	var out []namedTensor
	for _, t := range r.opt.State() {
		out = append(out, namedTensor{"optim/" + t.Name, t.Tensor})
	}
	if r.ema != nil {
		for _, t := range r.ema.State() {
			out = append(out, namedTensor{t.Name, t.Tensor})
		}
	}
	return out
}

func (r *run) train(ctx context.Context) (*Result, error) {
	cfg := r.cfg
	fresh := true
	if cfg.Resume && r.leader() { // rank 0 reads the checkpoint, shareStart hands it on
		var err error
		if fresh, err = r.resume(); err != nil {
			return nil, err
		}
	}
	if fresh && r.leader() { // rank 0 loads --init, shareStart hands it on
		if err := r.loadInit(); err != nil {
			return nil, err
		}
	}
	if err := r.shareStart(&fresh); err != nil {
		return nil, err
	}
	if fresh && r.ema != nil {
		if err := r.ema.Reset(); err != nil {
			return nil, err
		}
	}
	var err error
	metricsPath := filepath.Join(cfg.OutDir, "metrics.jsonl")
	if !fresh && r.leader() {
		if err := trimMetrics(metricsPath, r.pos.Step); err != nil {
			return nil, err
		}
	}
	if r.leader() {
		if r.metrics, err = openMetrics(metricsPath, fresh); err != nil {
			return nil, err
		}
		if err := writeJSONAtomic(filepath.Join(cfg.OutDir, "config.json"), cfg); err != nil {
			return nil, err
		}
	}
	total := cfg.Epochs * r.perEpoch
	res := &Result{BestTop1: r.pos.BestTop1, Rank: r.comm.Rank()}
	if !fresh && r.pos.Step >= total {
		res.AlreadyDone = true
		return res, nil
	}
	r.bar = newProgress(r.out, total, r.pos.Step)
	r.ckpts = newCheckpointClock(cfg.CheckpointEvery, r.perEpoch)
	if r.comm.Distributed() {
		r.ckpts.agree = r.slowestStep
	}
	start := time.Now()
	defer func() { res.Seconds = time.Since(start).Seconds() }()

	for si, stage := range r.sched.Stages {
		if stage.LastEpoch() < r.pos.Epoch {
			continue
		}
		g, err := r.recordStage(stage)
		if err != nil {
			return nil, err
		}
		r.evalSize = stage.ImageSize
		r.bar.println("stage %d/%d: image size %d, dropout %.3f, RandAugment %.1f, mixup %.2f, epochs %d-%d",
			si+1, len(r.sched.Stages), stage.ImageSize, stage.Dropout, stage.RandAugmentMagnitude, stage.MixupAlpha, stage.FirstEpoch, stage.LastEpoch())
		for epoch := max(stage.FirstEpoch, r.pos.Epoch); epoch <= stage.LastEpoch(); epoch++ {
			if err := r.trainEpoch(ctx, g, stage, epoch, res); err != nil {
				g.Free()
				return res, err
			}
			if err := r.endEpoch(stage, epoch, res); err != nil {
				g.Free()
				return res, err
			}
			r.snapshot(g, stage) // every evaluation, the run's end included
		}
		g.Free()
	}
	return res, nil
}

// resume loads the newest checkpoint in the output directory into the
// model, the optimizer and the EMA and moves to its position; fresh says
// there was none (the run starts from scratch).
func (r *run) resume() (fresh bool, err error) {
	path, err := latestCheckpoint(r.cfg.OutDir, r.warn)
	if err != nil {
		return false, err
	}
	if path == "" {
		r.warn("--resume: no checkpoint in %s, starting from scratch", r.cfg.OutDir)
		return true, nil
	}
	meta, err := loadCheckpoint(path, r.mc, r.model, r.stateTensors())
	if err != nil {
		return false, err
	}
	if err := meta.Config.compatible(r.cfg); err != nil {
		return false, err
	}
	r.pos = meta.Position
	if r.out != nil {
		fmt.Fprintf(r.out, "resumed from %s: epoch %d, batch %d, step %d\n", path, r.pos.Epoch, r.pos.Batch, r.pos.Step)
		if meta.Align != r.model.Store.Align {
			fmt.Fprintf(r.out, "the checkpoint was made on %s (buffer alignment %d floats, here %d): its optimizer state was moved to this device's layout\n",
				meta.Device, meta.Align, r.model.Store.Align)
		}
	}
	return false, nil
}

// recordStage records the training step at the stage's image size and
// regularization, with the optimizer and EMA appended.
func (r *run) recordStage(stage progressive.Stage) (*net.Graph, error) {
	h, w := r.raw, r.raw
	gc := net.GraphConfig{
		Batch: r.localBatch(), Size: stage.ImageSize,
		Train: true, UpdateRunning: true, Backward: true, Regularize: true,
		Dropout: stage.Dropout, LabelSmoothing: r.cfg.LabelSmoothing, SoftTargets: r.mix(stage).Mixing(),
		Raw:     &net.RawInput{H: h, W: w, C: r.channels, Mean: r.mean, Std: r.std},
		Profile: r.cfg.Profile, Frozen: r.cfg.Freeze,
		SyncBN: r.syncBN(),
	}
	if r.comm.Distributed() {
		return r.model.Record(gc, nil) // the update follows the all-reduce
	}
	return r.model.Record(gc, func(s *engine.Sequence) error {
		r.opt.Record(s)
		if r.ema != nil {
			r.ema.Record(s)
		}
		return s.Err()
	})
}

func (r *run) trainEpoch(ctx context.Context, g *net.Graph, stage progressive.Stage, epoch int, res *Result) error {
	cfg := r.cfg
	h := r.raw
	loader, err := data.NewLoader(r.trainDS, data.Options{
		BatchSize: cfg.BatchSize, Shuffle: true, Seed: cfg.Seed, Epoch: epoch, Size: h,
		Augment: data.Augment{
			HorizontalFlip: true,
			RandAugmentN:   randAugmentOps(stage.RandAugmentMagnitude),
			RandAugmentM:   stage.RandAugmentMagnitude,
			Mix:            r.mix(stage),
		},
		Workers: cfg.Workers, Prefetch: 4, DropLast: true, SkipCorrupt: cfg.SkipCorrupt,
	})
	if err != nil {
		return err
	}
	defer func() {
		if n := loader.Skipped(); n > 0 {
			r.warn("epoch %d: skipped %d unreadable image(s), e.g. %v", epoch+1, n, loader.SkippedNames()[:min(3, len(loader.SkippedNames()))])
		}
		loader.Close()
	}()
	var feed *inputFeed // nil: every step waits before the next batch is read
	if pipelineSteps && !r.comm.Distributed() {
		if feed, err = newInputFeed(r.dev, g, r.opt, r.ema); err != nil {
			return err
		}
		defer feed.free()
	}
	clock := stepClock{last: time.Now()}
	var inFlight *engine.Pending // the step the device runs while the host prepares the next
	var running pendingStep
	defer func() { inFlight.Wait() }() // an early return leaves the device idle
	for b := 0; ; b++ {
		batch, err := loader.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if epoch == r.pos.Epoch && b < r.pos.Batch {
			loader.Release(batch) // done before the checkpoint this run resumed from
			continue
		}
		step := pendingStep{batch: b, epochF: float64(epoch) + float64(b)/float64(r.perEpoch)}
		step.lr = r.lr.At(step.epochF)
		if feed == nil {
			err := r.upload(g, batch)
			loader.Release(batch)
			if err != nil {
				return err
			}
			if err := r.setStepState(g, step.lr); err != nil {
				return err
			}
			if err := g.Run(); err != nil {
				return err
			}
			step.actions, step.checkpoint = true, r.ckpts.stepDone(r.pos.Step+1, b+1 == r.perEpoch)
			if err := r.finishStep(ctx, g, stage, epoch, step, g.Loss, g.Correct, &clock, res); err != nil {
				return err
			}
			continue
		}
		// This step follows the one in flight, if any: it will be step
		// r.pos.Step+1 once that one is counted.
		done := r.pos.Step
		if inFlight != nil {
			done++
		}
		step.slot, err = feed.load(batch, stepInputs{step: done, lr: step.lr, seed: r.cfg.Seed, firstSeed: uint32(r.comm.Rank() * r.localBatch())})
		loader.Release(batch)
		if err != nil {
			return err
		}
		if inFlight != nil && running.actions {
			// Hooks, checkpoints, snapshots and an interruption need the
			// running step finished and the next one not yet started.
			if err := r.finishInFlight(ctx, &inFlight, feed, g, stage, epoch, running, &clock, res); err != nil {
				return err
			}
		}
		next, err := feed.submit(r.dev, step.slot)
		if err != nil {
			return err
		}
		if inFlight != nil { // its loss is read while the new step runs
			if err := r.finishInFlight(ctx, &inFlight, feed, g, stage, epoch, running, &clock, res); err != nil {
				inFlight = next
				return err
			}
		}
		inFlight, running = next, step
		// Decided now, before the next step is queued behind this one.
		running.checkpoint = r.ckpts.stepDone(done+1, b+1 == r.perEpoch)
		running.actions = running.checkpoint || r.snapshotDue(done+1) || ctx.Err() != nil || r.hooked()
	}
	if inFlight != nil { // the epoch's last step
		running.actions = true
		return r.finishInFlight(ctx, &inFlight, feed, g, stage, epoch, running, &clock, res)
	}
	return nil
}

// pendingStep is what the loop keeps of a submitted step until its loss is
// read.
type pendingStep struct {
	batch  int     // index in the epoch
	epochF float64 // epoch + fraction done when it started
	lr     float64
	slot   int // the input feed's slot
	// actions says the step is followed by hooks and may be by a
	// checkpoint, a snapshot or an interruption: the next step is queued
	// only once it is finished. A step without them has its loss read
	// while the next one runs.
	actions bool
	// checkpoint says a mid-epoch checkpoint is due after it.
	checkpoint bool
}

// stepClock times steps for the images-per-second metric.
type stepClock struct{ last time.Time }

// hooked says a test or caller watches every step (AfterStep), which
// sees the device idle with no later step queued, or the step is profiled
// (its timestamps are read before it runs again).
func (r *run) hooked() bool { return r.cfg.AfterStep != nil || afterStepHook != nil || r.cfg.Profile }

// snapshotDue says a snapshot follows the step that makes step count n.
func (r *run) snapshotDue(n int) bool {
	return r.cfg.SnapshotEvery > 0 && n%r.cfg.SnapshotEvery == 0 && r.leader()
}

// finishInFlight waits for the queued step and finishes it (finishStep)
// from the loss and accuracy it copied to its slot.
func (r *run) finishInFlight(ctx context.Context, inFlight **engine.Pending, feed *inputFeed, g *net.Graph, stage progressive.Stage, epoch int, step pendingStep, clock *stepClock, res *Result) error {
	err := (*inFlight).Wait()
	*inFlight = nil
	if err != nil {
		return err
	}
	loss, correct := feed.metrics(step.slot)
	return r.finishStep(ctx, g, stage, epoch, step, loss, correct, clock, res)
}

// setStepState writes what the recorded step reads besides its batch: the
// learning rate and step of the optimizer and EMA and the dropout seed. The
// device must be idle (the previous step done).
func (r *run) setStepState(g *net.Graph, lr float64) error {
	if err := r.opt.SetStep(r.pos.Step, lr); err != nil {
		return err
	}
	if r.ema != nil {
		if err := r.ema.SetStep(r.pos.Step); err != nil {
			return err
		}
	}
	return g.SetRNGAt(r.cfg.Seed, uint32(r.pos.Step), uint32(r.comm.Rank()*r.localBatch()))
}

// finishStep reads a finished step's loss and accuracy from loss and
// correct (all-reduced across ranks), stops on a NaN loss, advances the
// position and logs the step. With step.actions (no later step queued, the
// device idle) it then runs the hooks and writes the snapshot, the
// checkpoint (step.checkpoint) and an interruption's checkpoint due, which
// so hold exactly the state after this step.
func (r *run) finishStep(ctx context.Context, g *net.Graph, stage progressive.Stage, epoch int, step pendingStep, lossT, correctT *engine.Tensor, clock *stepClock, res *Result) error {
	cfg := r.cfg
	b := step.batch
	loss, acc, err := readLoss(lossT, correctT, g.Config.Batch)
	if err != nil {
		return err
	}
	global, err := r.allReduceStep(g, loss, acc, ctx.Err() != nil)
	if err != nil {
		return err
	}
	loss, acc = global.loss, global.top1
	if math.IsNaN(loss) || math.IsInf(loss, 0) {
		return fmt.Errorf("train: loss became %v at step %d (epoch %d): stopping; the last good checkpoint in %s is kept. Lower --lr or raise --warmup-epochs", loss, r.pos.Step, epoch, cfg.OutDir)
	}
	r.pos.Step++
	r.pos.Batch = b + 1
	r.pos.Epoch = epoch
	res.Steps++
	res.Losses = append(res.Losses, loss)
	nowT := time.Now()
	ips := float64(cfg.BatchSize) / nowT.Sub(clock.last).Seconds()
	clock.last = nowT
	if err := r.metrics.write(TrainRecord{Kind: "train", Time: now(), Step: r.pos.Step, Epoch: step.epochF, Stage: stage.Index,
		ImageSize: stage.ImageSize, LR: step.lr, Loss: loss, Top1: acc, ImgPerSec: ips, ReduceMS: global.reduceMS}); err != nil {
		return err
	}
	r.bar.update(r.pos.Step, stage.Index, len(r.sched.Stages), stage.ImageSize, epoch, cfg.Epochs, b+1, r.perEpoch, loss, acc, ips)
	if !step.actions {
		return nil
	}
	if cfg.AfterStep != nil {
		cfg.AfterStep(r.pos.Step, loss)
	}
	if afterStepHook != nil {
		afterStepHook(r)
	}
	if r.snapshotDue(r.pos.Step) {
		r.snapshot(g, stage)
	}
	stop := r.stopRequested(ctx, global)
	if step.checkpoint && !stop {
		if err := r.checkpoint(false); err != nil {
			return err
		}
	}
	if stop {
		if r.leader() {
			r.snapshot(g, stage)
		}
		if err := r.checkpoint(false); err != nil {
			return err
		}
		r.bar.println("interrupted at step %d: checkpoint written to %s", r.pos.Step, cfg.OutDir)
		return ErrInterrupted
	}
	return nil
}

// randAugmentOps is RandAugment's N: 2 ops (the paper's), none at magnitude 0.
func randAugmentOps(m float64) int {
	if m <= 0 {
		return 0
	}
	return 2
}

// mix is the stage's Mixup (from the schedule) and the run's CutMix. When
// either is on, the loader makes soft targets and folds the label smoothing
// into them (the loss kernel smooths hard labels itself).
func (r *run) mix(stage progressive.Stage) data.MixParams {
	m := data.MixParams{MixupAlpha: stage.MixupAlpha, CutMixAlpha: r.cfg.CutMixAlpha}
	if m.Mixing() {
		m.LabelSmoothing = r.cfg.LabelSmoothing
	}
	return m
}

// upload copies a batch's images and labels (or soft targets) to the graph.
func (r *run) upload(g *net.Graph, b *data.Batch) error {
	b = r.rankSlice(b)
	if err := g.Raw.Upload(b.Images); err != nil {
		return fmt.Errorf("train: batch of %dx%dx%d images: %w", b.H, b.W, b.C, err)
	}
	if g.Targets != nil {
		return g.Targets.Upload(b.Targets)
	}
	return g.Labels.Upload(b.Labels)
}

// readLoss reads a step's mean loss and top-1 batch accuracy from the
// graph's loss and correct-count tensors, or from the copies a pipelined
// step made of them.
func readLoss(lossT, correctT *engine.Tensor, batch int) (float64, float64, error) {
	var loss [1]float32
	var correct [2]float32
	if err := lossT.Download(loss[:]); err != nil {
		return 0, 0, err
	}
	if err := correctT.Download(correct[:]); err != nil {
		return 0, 0, err
	}
	return float64(loss[0]), float64(correct[0]) / float64(batch), nil
}

// endEpoch evaluates, writes a checkpoint (and best.safetensors on a new
// best) and moves the position to the next epoch.
func (r *run) endEpoch(stage progressive.Stage, epoch int, res *Result) error {
	if err := r.averageStats(); err != nil {
		return err
	}
	top1, top5, err := r.evaluate(false)
	if err != nil {
		return err
	}
	rec := EvalRecord{Kind: "eval", Time: now(), Step: r.pos.Step, Epoch: float64(epoch + 1), Stage: stage.Index, ImageSize: r.evalSize, Top1: top1, Top5: top5}
	res.FinalTop1, res.FinalTop5 = top1, top5
	msg := fmt.Sprintf("epoch %d/%d: test top-1 %.2f%% top-5 %.2f%%", epoch+1, r.cfg.Epochs, 100*top1, 100*top5)
	if r.ema != nil {
		e1, e5, err := r.evaluate(true)
		if err != nil {
			return err
		}
		rec.EMATop1, rec.EMATop5 = &e1, &e5
		res.FinalEMATop1 = e1
		msg += fmt.Sprintf(" (EMA %.2f%% / %.2f%%)", 100*e1, 100*e5)
	}
	r.bar.println("%s", msg)
	if err := r.metrics.write(rec); err != nil {
		return err
	}
	r.pos.Epoch, r.pos.Batch = epoch+1, 0
	best := top1 > r.pos.BestTop1
	if best {
		r.pos.BestTop1 = top1
	}
	res.BestTop1 = r.pos.BestTop1
	return r.checkpoint(best)
}

// checkpoint writes the position reached; with best, also best.safetensors.
func (r *run) checkpoint(best bool) error {
	if err := r.averageStats(); err != nil {
		return err
	}
	if !r.leader() {
		return nil
	}
	meta := checkpointMeta{Config: r.cfg, Position: r.pos, Device: r.dev.Info.Name, Classes: r.trainDS.ClassNames(),
		Model: r.mc.Name, Align: r.model.Store.Align, ImageSize: r.evalSize, RawC: r.channels}
	meta.RawH, meta.RawW = r.raw, r.raw
	path := filepath.Join(r.cfg.OutDir, checkpointName(r.pos.Step))
	if err := saveCheckpoint(path, meta, r.model, r.stateTensors()); err != nil {
		return err
	}
	if best {
		if err := saveCheckpoint(filepath.Join(r.cfg.OutDir, "best.safetensors"), meta, r.model, r.stateTensors()); err != nil {
			return err
		}
	}
	return pruneCheckpoints(r.cfg.OutDir, max(r.cfg.KeepLast, 1))
}
