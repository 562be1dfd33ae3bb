package train

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"time"

	"github.com/effv2vk/effv2vk/data"
	"github.com/effv2vk/effv2vk/dist"
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/net"
)

// Data-parallel training (effv2vk launched by mpirun, one rank per device).
// Every rank builds the same global batch (same samples and augmentations
// as one process) and trains on its slice of it; after backward the flat
// gradient tensor, with the slice's loss, correct count and the stop flag
// appended, is summed across ranks in one host-staged all-reduce and
// averaged, and every rank applies the same optimizer and EMA update.
// Batch norm uses each rank's own batch statistics; the running statistics
// (and their EMA) are averaged across ranks before every evaluation and
// checkpoint. Rank 0 alone writes files and shows progress. A single
// process (Size 1) takes none of these paths.

// leader reports whether this rank writes files and shows progress.
func (r *run) leader() bool { return r.comm.Rank() == 0 }

// localBatch is the number of images of each global batch this rank trains.
func (r *run) localBatch() int { return r.cfg.BatchSize / r.comm.Size() }

// checkRanks rejects a global batch that the ranks cannot share equally.
func (r *run) checkRanks() error {
	n := r.comm.Size()
	if r.cfg.BatchSize%n != 0 {
		return fmt.Errorf("train: --batch-size %d (the global batch) is not a multiple of the %d ranks: choose a batch size divisible by %d", r.cfg.BatchSize, n, n)
	}
	if r.localBatch() < 2 && !r.cfg.SyncBN {
		return fmt.Errorf("train: --batch-size %d over %d ranks leaves %d image per rank: batch norm needs at least 2 (raise --batch-size)", r.cfg.BatchSize, n, r.localBatch())
	}
	return nil
}

// deviceSelector is the device this rank opens: --device or
// $EFFV2VK_DEVICE when given, else (under mpirun) the device whose index is
// the rank's node-local rank.
func (r *run) deviceSelector() string {
	if r.cfg.Device != "" || !r.comm.Distributed() || os.Getenv("EFFV2VK_DEVICE") != "" {
		return r.cfg.Device
	}
	return strconv.Itoa(r.comm.LocalRank())
}

// rankError adds the rank to an error of a distributed run.
func (r *run) rankError(err error) error {
	if err == nil || !r.comm.Distributed() {
		return err
	}
	return fmt.Errorf("rank %d of %d (local rank %d): %w", r.comm.Rank(), r.comm.Size(), r.comm.LocalRank(), err)
}

// agree checks that every rank runs the same model, data and flags (the
// directories, device and loader workers may differ).
func (r *run) agree() error {
	if !r.comm.Distributed() {
		return nil
	}
	raw, err := json.Marshal(r.cfg)
	if err != nil {
		return err
	}
	var fields map[string]any
	if err := json.Unmarshal(raw, &fields); err != nil {
		return err
	}
	for _, local := range []string{"data_dir", "out_dir", "device", "workers"} {
		delete(fields, local)
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	var settings []dist.Setting
	for _, k := range names {
		v, _ := json.Marshal(fields[k])
		settings = append(settings, dist.Setting{Name: "--" + k, Value: string(v)})
	}
	settings = append(settings,
		dist.Setting{Name: "--resume", Value: strconv.FormatBool(r.cfg.Resume)},
		dist.Setting{Name: "training images", Value: strconv.Itoa(r.trainDS.Len())},
		dist.Setting{Name: "test images", Value: strconv.Itoa(r.testDS.Len())},
		dist.Setting{Name: "parameters", Value: strconv.Itoa(r.model.Store.Params.Len())},
		// The flat optimizer state is broadcast as is: same layout needed.
		dist.Setting{Name: "device buffer alignment", Value: strconv.Itoa(r.model.Store.Align)},
	)
	return r.comm.Agree(settings)
}

// startState is what rank 0 tells the others after it resumed (or not).
type startState struct {
	Fresh          bool     `json:"fresh"`
	Position       position `json:"position"`
	BatchesTracked int64    `json:"batches_tracked"`
}

// shareStart makes every rank start where rank 0 does: its position, and
// its parameters, batch-norm statistics, optimizer and EMA state.
func (r *run) shareStart(fresh *bool) error {
	if !r.comm.Distributed() {
		return nil
	}
	raw, err := json.Marshal(startState{Fresh: *fresh, Position: r.pos, BatchesTracked: r.model.Store.BatchesTracked})
	if err != nil {
		return err
	}
	if raw, err = r.comm.BroadcastBytes(raw, 0); err != nil {
		return err
	}
	var st startState
	if err := json.Unmarshal(raw, &st); err != nil {
		return fmt.Errorf("train: rank 0's start state: %w", err)
	}
	*fresh, r.pos, r.model.Store.BatchesTracked = st.Fresh, st.Position, st.BatchesTracked
	for _, t := range r.globalTensors() {
		if err := r.broadcastTensor(t); err != nil {
			return err
		}
	}
	return nil
}

// globalTensors is the state every rank holds alike: parameters, batch-norm
// statistics, optimizer state and EMA.
func (r *run) globalTensors() []*engine.Tensor {
	ts := []*engine.Tensor{r.model.Store.Params, r.model.Store.Stats}
	for _, nt := range r.stateTensors() {
		ts = append(ts, nt.Tensor)
	}
	return ts
}

func (r *run) broadcastTensor(t *engine.Tensor) error {
	v, err := t.Floats()
	if err != nil {
		return err
	}
	if err := r.comm.BroadcastFloat32(v, 0); err != nil {
		return err
	}
	return t.Upload(v)
}

// averageStats averages the batch-norm running statistics, and their EMA,
// across ranks: each rank's own follow its own slices between evaluations.
func (r *run) averageStats() error {
	if !r.comm.Distributed() {
		return nil
	}
	ts := []*engine.Tensor{r.model.Store.Stats}
	if r.ema != nil {
		for _, nt := range r.ema.State() {
			if nt.Name == "ema/stats" {
				ts = append(ts, nt.Tensor)
			}
		}
	}
	scale := 1 / float32(r.comm.Size())
	for _, t := range ts {
		v, err := t.Floats()
		if err != nil {
			return err
		}
		if err := r.comm.SumFloat32(v); err != nil {
			return err
		}
		for i := range v {
			v[i] *= scale
		}
		if err := t.Upload(v); err != nil {
			return err
		}
	}
	return nil
}

// rankSlice is this rank's slice of a global batch (the batch itself in a
// single process).
func (r *run) rankSlice(b *data.Batch) *data.Batch {
	if !r.comm.Distributed() {
		return b
	}
	n := r.localBatch()
	lo, hi := r.comm.Rank()*n, (r.comm.Rank()+1)*n
	img := b.H * b.W * b.C
	s := *b
	s.N = n
	s.Images = b.Images[lo*img : hi*img]
	s.Labels = b.Labels[lo:hi]
	if b.Targets != nil {
		classes := len(b.Targets) / b.N
		s.Targets = b.Targets[lo*classes : hi*classes]
	}
	if b.Indices != nil {
		s.Indices = b.Indices[lo:hi]
	}
	return &s
}

// stepResult is a training step's outcome over the global batch.
type stepResult struct {
	loss, top1 float64
	stop       bool    // some rank was interrupted: all checkpoint and stop
	reduceMS   float64 // time of the gradient exchange (0 in one process)
}

// allReduceStep follows forward and backward on a rank: the gradients,
// with this slice's loss, correct count and stop flag appended, are summed
// across ranks in one all-reduce and averaged, then the optimizer and EMA
// update runs. A single process returns its own values (its graph updated
// already).
func (r *run) allReduceStep(g *net.Graph, loss, top1 float64, stop bool) (stepResult, error) {
	if !r.comm.Distributed() {
		return stepResult{loss: loss, top1: top1, stop: stop}, nil
	}
	start := time.Now()
	grads := r.model.Store.Grads
	n := grads.Len()
	if len(r.reduceBuf) != n+3 {
		r.reduceBuf = make([]float32, n+3)
	}
	buf := r.reduceBuf
	if err := grads.Download(buf[:n]); err != nil {
		return stepResult{}, err
	}
	buf[n] = float32(loss)
	buf[n+1] = float32(math.Round(top1 * float64(g.Config.Batch)))
	buf[n+2] = 0
	if stop {
		buf[n+2] = 1
	}
	if err := r.comm.SumFloat32(buf); err != nil {
		return stepResult{}, err
	}
	scale := 1 / float32(r.comm.Size())
	for i := range buf[:n] {
		buf[i] *= scale
	}
	if err := grads.Upload(buf[:n]); err != nil {
		return stepResult{}, err
	}
	reduceMS := float64(time.Since(start).Microseconds()) / 1000
	if err := r.dev.Run(r.update); err != nil {
		return stepResult{}, err
	}
	return stepResult{
		reduceMS: reduceMS,
		loss:     float64(buf[n]) / float64(r.comm.Size()),
		top1:     float64(buf[n+1]) / float64(r.cfg.BatchSize),
		stop:     buf[n+2] > 0,
	}, nil
}

// stopRequested says whether to checkpoint and stop after this step: when
// ctx is cancelled; with several ranks, when any rank's was cancelled
// before the step's all-reduce (all ranks must stop at the same step).
func (r *run) stopRequested(ctx context.Context, step stepResult) bool {
	if r.comm.Distributed() {
		return step.stop
	}
	return ctx.Err() != nil
}

// recordUpdate records the optimizer and EMA update that a rank runs after
// the gradient all-reduce (a single process appends it to the step).
func (r *run) recordUpdate() error {
	if !r.comm.Distributed() || r.update != nil {
		return nil
	}
	s, err := r.dev.NewSequence("optimizer and EMA update", engine.SequenceOptions{})
	if err != nil {
		return err
	}
	r.opt.Record(s)
	if r.ema != nil {
		r.ema.Record(s)
	}
	if err := s.Finish(); err != nil {
		s.Release()
		return err
	}
	r.update = s
	return nil
}

// evaluateShard evaluates this rank's share of the test split and sums the
// counts over ranks.
func (r *run) evaluateShard(g *net.Graph) (float64, float64, error) {
	if !r.comm.Distributed() {
		return Evaluate(g, r.testDS, r.cfg.Workers)
	}
	n := r.testDS.Len()
	lo, hi := r.comm.Rank()*n/r.comm.Size(), (r.comm.Rank()+1)*n/r.comm.Size()
	counts := make([]float64, 3)
	if hi > lo {
		idx := make([]int, hi-lo)
		for i := range idx {
			idx[i] = lo + i
		}
		shard, err := data.Subset(r.testDS, idx)
		if err != nil {
			return 0, 0, err
		}
		top1, top5, total, err := evaluateCounts(g, shard, r.cfg.Workers)
		if err != nil {
			return 0, 0, err
		}
		counts[0], counts[1], counts[2] = float64(top1), float64(top5), float64(total)
	}
	if err := r.comm.SumFloat64(counts); err != nil {
		return 0, 0, err
	}
	if counts[2] == 0 {
		return 0, 0, fmt.Errorf("train: evaluation set is empty")
	}
	return counts[0] / counts[2], counts[1] / counts[2], nil
}

// finishedHook, when set (tests), sees a run after its last step, before
// it is released; afterStepHook after every step.
var finishedHook, afterStepHook func(r *run)

// syncBN is the cross-rank batch norm of a multi-rank run with --sync-bn
// (nil otherwise: one process has the global batch already).
func (r *run) syncBN() *net.SyncBN {
	if !r.cfg.SyncBN || !r.comm.Distributed() {
		return nil
	}
	scale := 1 / float64(r.comm.Size())
	return &net.SyncBN{Ranks: r.comm.Size(), Average: func(v []float64) error {
		if err := r.comm.SumFloat64(v); err != nil {
			return err
		}
		for i := range v {
			v[i] *= scale
		}
		return nil
	}}
}

// slowestStep is the largest of the ranks' measured step times, so that all
// ranks derive the same default checkpoint interval. On an MPI error (which
// Open MPI's default handler makes fatal to the job) the local time is kept.
func (r *run) slowestStep(stepSeconds float64) float64 {
	buf := []float64{stepSeconds}
	if err := r.comm.MaxFloat64(buf); err != nil {
		r.warn("checkpoint interval: %v", err)
		return stepSeconds
	}
	return buf[0]
}
