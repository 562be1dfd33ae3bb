package train

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/dist"
	"github.com/effv2vk/effv2vk/dist/disttest"
	"github.com/effv2vk/effv2vk/engine"
)

// rankJobEnv holds the JSON rankJob a test binary runs as one rank under
// mpirun.
const rankJobEnv = "EFFV2VK_TRAIN_RANK_JOB"

// rankJob is a training run for every rank, with per-rank changes.
type rankJob struct {
	Config Config
	// Rank1LR and Rank1Device, when set, change rank 1's flags (the
	// disagreement and device-failure tests).
	Rank1LR     float64
	Rank1Device string
	// InterruptAt cancels rank 0's context after that step (0: never);
	// KillAt makes rank 1 SIGKILL itself after that step (0: never).
	InterruptAt, KillAt int
	// Resume is Config.Resume, which JSON leaves out.
	Resume bool
	// Dump writes each rank's gradient after step 1 and parameters at the
	// end to OutDir/rank-R.grads and rank-R.params, and prints its losses.
	Dump bool
}

func TestMain(m *testing.M) {
	if job := os.Getenv(rankJobEnv); job != "" {
		os.Exit(runRankJob(job))
	}
	os.Exit(m.Run())
}

// runRankJob trains as one rank and prints "rank R: steps N state DIGEST"
// (the digest of every tensor that must agree across ranks) or its error.
func runRankJob(raw string) int {
	var job rankJob
	if err := json.Unmarshal([]byte(raw), &job); err != nil {
		fmt.Println("bad job:", err)
		return 2
	}
	comm, err := dist.Join()
	if err != nil {
		fmt.Println("join:", err)
		return 1
	}
	cfg := job.Config
	cfg.Resume = job.Resume
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if comm.Rank() == 1 {
		if job.Rank1LR != 0 {
			cfg.LR = job.Rank1LR
		}
		if job.Rank1Device != "" {
			cfg.Device = job.Rank1Device
		}
	}
	cfg.AfterStep = func(step int, loss float64) {
		if comm.Rank() == 0 && step == job.InterruptAt {
			cancel()
		}
		if comm.Rank() == 1 && step == job.KillAt {
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
		}
	}
	var digest string
	finishedHook = func(r *run) {
		digest, err = stateDigest(r)
		if err == nil && job.Dump {
			err = dumpTensor(r.model.Store.Params, filepath.Join(cfg.OutDir, fmt.Sprintf("rank-%d.params", comm.Rank())))
		}
	}
	afterStepHook = func(r *run) {
		if job.Dump && r.pos.Step == 1 && err == nil {
			err = dumpTensor(r.model.Store.Grads, filepath.Join(cfg.OutDir, fmt.Sprintf("rank-%d.grads", comm.Rank())))
		}
	}
	res, runErr := Run(ctx, cfg, nil)
	if runErr != nil && !errors.Is(runErr, ErrInterrupted) {
		fmt.Printf("rank %d: error: %v\n", comm.Rank(), runErr)
		dist.AbortJob(1)
		return 1
	}
	if err != nil {
		fmt.Printf("rank %d: error: state digest: %v\n", comm.Rank(), err)
		dist.AbortJob(1)
		return 1
	}
	for _, m := range res.Validation {
		fmt.Printf("rank %d: validation: %s\n", comm.Rank(), m)
	}
	if job.Dump {
		losses, _ := json.Marshal(res.Losses)
		fmt.Printf("rank %d: losses %s\n", comm.Rank(), losses)
	}
	fmt.Printf("rank %d: steps %d state %s\n", comm.Rank(), res.Steps, digest)
	if err := dist.Finalize(); err != nil {
		fmt.Println("finalize:", err)
		return 1
	}
	return 0
}

// stateDigest hashes the parameters, batch-norm statistics, optimizer state
// and EMA of a run.
func stateDigest(r *run) (string, error) {
	h := sha256.New()
	for _, t := range r.globalTensors() {
		v, err := t.Floats()
		if err != nil {
			return "", err
		}
		for _, x := range v {
			fmt.Fprintf(h, "%08x", math.Float32bits(x))
		}
	}
	return fmt.Sprintf("%x", h.Sum(nil)[:12]), nil
}

// tinyRun is the smallest useful run: pico at 16x16 on 64 Fashion-MNIST
// images, global batch 16, 4 steps per epoch, 2 epochs.
func tinyRun(t *testing.T) Config {
	c := Defaults()
	c.DataDir = "../testdata/fashion-mnist-subset"
	c.TrainLimit, c.TestLimit = 64, 30
	c.Epochs, c.BatchSize, c.EvalBatch = 2, 16, 15
	c.Progressive, c.Stages, c.MaxSize = false, 1, 16
	c.WarmupEpochs = 0.5
	c.Workers = 1
	c.OutDir = t.TempDir()
	return c
}

// runRanks launches two ranks of job under mpirun.
func runRanks(t *testing.T, job rankJob, timeout time.Duration, env ...string) disttest.Result {
	t.Helper()
	raw, err := json.Marshal(job)
	if err != nil {
		t.Fatal(err)
	}
	if os.Getenv("EFFV2VK_VALIDATE") == "" {
		env = append(env, "EFFV2VK_VALIDATE=1")
	}
	env = append(env, rankJobEnv+"="+string(raw))
	return disttest.Run(t, 2, timeout, env)
}

// rankLine returns rank r's "steps N state D" report.
func rankLine(t *testing.T, out string, r int) string {
	t.Helper()
	prefix := fmt.Sprintf("rank %d: steps ", r)
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			return strings.TrimPrefix(l, fmt.Sprintf("rank %d: ", r))
		}
	}
	t.Fatalf("no report from rank %d:\n%s", r, out)
	return ""
}

func runSingle(t *testing.T, ctx context.Context, c Config) *Result {
	t.Helper()
	res, err := Run(ctx, c, nil)
	if err != nil && !errors.Is(err, ErrInterrupted) {
		t.Fatal(err)
	}
	for _, m := range res.Validation {
		t.Errorf("validation: %s", m)
	}
	return res
}

// TestTwoRanksResumeIdenticalState: a one-process run interrupted at step 2
// is resumed by two ranks; rank 0 alone is interrupted after step 5, and
// both stop after the next step, the first whose all-reduce carries the
// stop, with bitwise identical parameters, statistics, optimizer state
// and EMA, rank 0 writing the checkpoint; one process resumes that to the
// end (resume 1 -> 2 -> 1 ranks).
func TestTwoRanksResumeIdenticalState(t *testing.T) {
	disttest.Mpirun(t)
	c := tinyRun(t)
	ctx, cancel := context.WithCancel(context.Background())
	c.AfterStep = func(step int, _ float64) {
		if step == 2 {
			cancel()
		}
	}
	if res := runSingle(t, ctx, c); res.Steps != 2 {
		t.Fatalf("the one-process run stopped after %d steps, want 2", res.Steps)
	}
	c.AfterStep = nil
	res := runRanks(t, rankJob{Config: c, Resume: true, InterruptAt: 5}, 4*time.Minute, "EFFV2VK_DEVICE=0")
	if res.ExitCode != 0 {
		t.Fatalf("mpirun exit %d (timed out %v):\n%s", res.ExitCode, res.TimedOut, res.Output)
	}
	if strings.Contains(res.Output, "validation:") {
		t.Errorf("validation messages:\n%s", res.Output)
	}
	r0, r1 := rankLine(t, res.Output, 0), rankLine(t, res.Output, 1)
	t.Logf("rank 0: %s; rank 1: %s", r0, r1)
	if !strings.HasPrefix(r0, "steps 4 ") || !strings.HasPrefix(r1, "steps 4 ") {
		t.Errorf("rank 0: %s, rank 1: %s: want 4 steps each (steps 3-6)", r0, r1)
	}
	if r0 != r1 {
		t.Errorf("the ranks' state differs: rank 0 %s, rank 1 %s", r0, r1)
	}
	path, err := latestCheckpoint(c.OutDir, t.Logf)
	if err != nil || filepath.Base(path) != checkpointName(6) {
		t.Fatalf("latest checkpoint %q (%v), want %s from the interrupted two-rank run", path, err, checkpointName(6))
	}
	c.Resume = true
	if got := runSingle(t, context.Background(), c); got.Steps != 2 {
		t.Fatalf("one process resuming the two-rank checkpoint trained %d steps, want 2", got.Steps)
	}
	maps, _ := os.ReadFile("/proc/self/maps")
	if strings.Contains(string(maps), "libmpi") {
		t.Error("the one-process runs loaded libmpi")
	}
}

// TestKilledRankEndsJob: SIGKILL of rank 1 after epoch 1's checkpoint ends
// the job non-zero in bounded time; the checkpoint is intact and one
// process resumes it to the end.
func TestKilledRankEndsJob(t *testing.T) {
	disttest.Mpirun(t)
	c := tinyRun(t)
	start := time.Now()
	res := runRanks(t, rankJob{Config: c, KillAt: 6}, 4*time.Minute, "EFFV2VK_DEVICE=0")
	if res.ExitCode == 0 || res.TimedOut {
		t.Fatalf("mpirun exit %d, timed out %v after rank 1 was killed:\n%s", res.ExitCode, res.TimedOut, res.Output)
	}
	t.Logf("job ended %v after start with exit %d", time.Since(start).Round(time.Second), res.ExitCode)
	path, err := latestCheckpoint(c.OutDir, t.Logf)
	if err != nil || filepath.Base(path) != checkpointName(4) {
		t.Fatalf("latest checkpoint %q (%v), want %s", path, err, checkpointName(4))
	}
	c.Resume = true
	if got := runSingle(t, context.Background(), c); got.Steps != 4 {
		t.Fatalf("resumed one-process run trained %d steps, want 4", got.Steps)
	}
}

// TestRanksDisagreeOnFlags: rank 1 launched with another --lr stops the
// job with an error naming the flag.
func TestRanksDisagreeOnFlags(t *testing.T) {
	disttest.Mpirun(t)
	c := tinyRun(t)
	res := runRanks(t, rankJob{Config: c, Rank1LR: 0.5}, 3*time.Minute, "EFFV2VK_DEVICE=0")
	if res.ExitCode == 0 {
		t.Fatalf("ranks with different --lr: exit 0:\n%s", res.Output)
	}
	if want := "rank 1 has --lr 0.5, rank 0 has 0.004"; !strings.Contains(res.Output, want) {
		t.Fatalf("output does not say %q:\n%s", want, res.Output)
	}
}

// TestRankDeviceFailureEndsJob: a rank that cannot open its device ends the
// job with its error.
func TestRankDeviceFailureEndsJob(t *testing.T) {
	disttest.Mpirun(t)
	c := tinyRun(t)
	res := runRanks(t, rankJob{Config: c, Rank1Device: "no-such-gpu"}, 3*time.Minute, "EFFV2VK_DEVICE=0")
	if res.ExitCode == 0 {
		t.Fatalf("rank 1 without a device: exit 0:\n%s", res.Output)
	}
	if !strings.Contains(res.Output, "rank 1: error: rank 1 of 2 (local rank 1):") || !strings.Contains(res.Output, "no-such-gpu") {
		t.Fatalf("output does not carry rank 1's device error:\n%s", res.Output)
	}
}

// dumpTensor writes a float32 tensor to path (little-endian).
func dumpTensor(t *engine.Tensor, path string) error {
	v, err := t.Floats()
	if err != nil {
		return err
	}
	b := make([]byte, 4*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(x))
	}
	return os.WriteFile(path, b, 0o644)
}

func readDump(t *testing.T, path string) []float32 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	v := make([]float32, len(b)/4)
	for i := range v {
		v[i] = math.Float32frombits(binary.LittleEndian.Uint32(b[4*i:]))
	}
	return v
}

// maxDiff returns max |a-b| and max |b|.
func maxDiff(t *testing.T, a, b []float32) (diff, scale float64) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("lengths %d and %d", len(a), len(b))
	}
	for i := range a {
		diff = max(diff, math.Abs(float64(a[i])-float64(b[i])))
		scale = max(scale, math.Abs(float64(b[i])))
	}
	return diff, scale
}

// TestSyncBNMatchesOneProcess: two ranks with --sync-bn, each on half of
// every global batch, follow the one-process run on the whole batch: the
// averaged gradient of step 1, the per-step losses and the final
// parameters agree within float tolerance. (Without --sync-bn each rank
// normalizes by its own half's statistics and they do not.)
func TestSyncBNMatchesOneProcess(t *testing.T) {
	disttest.Mpirun(t)
	c := tinyRun(t)
	c.Epochs, c.TrainLimit, c.WarmupEpochs = 1, 64, 0.5
	c.SyncBN = true
	var grads, params []float32
	var hookErr error
	afterStepHook = func(r *run) {
		if r.pos.Step == 1 {
			grads, hookErr = r.model.Store.Grads.Floats()
		}
	}
	finishedHook = func(r *run) {
		if hookErr == nil {
			params, hookErr = r.model.Store.Params.Floats()
		}
	}
	one := runSingle(t, context.Background(), c)
	afterStepHook, finishedHook = nil, nil
	if hookErr != nil {
		t.Fatal(hookErr)
	}
	c.OutDir = t.TempDir()
	res := runRanks(t, rankJob{Config: c, Dump: true}, 4*time.Minute, "EFFV2VK_DEVICE=0")
	if res.ExitCode != 0 {
		t.Fatalf("mpirun exit %d (timed out %v):\n%s", res.ExitCode, res.TimedOut, res.Output)
	}
	var losses []float64
	for _, l := range strings.Split(res.Output, "\n") {
		if rest, ok := strings.CutPrefix(l, "rank 0: losses "); ok {
			if err := json.Unmarshal([]byte(rest), &losses); err != nil {
				t.Fatal(err)
			}
		}
	}
	if len(losses) != len(one.Losses) || len(losses) != 4 {
		t.Fatalf("two ranks: %d losses, one process %d, want 4:\n%s", len(losses), len(one.Losses), res.Output)
	}
	for i := range losses {
		rel := math.Abs(losses[i]-one.Losses[i]) / math.Abs(one.Losses[i])
		t.Logf("step %d: loss %.7f two ranks, %.7f one process (relative %.1e)", i+1, losses[i], one.Losses[i], rel)
		if i < 2 && rel > 1e-4 {
			t.Errorf("step %d: relative loss difference %.2e > 1e-4", i+1, rel)
		}
	}
	for r := 0; r < 2; r++ {
		g := readDump(t, filepath.Join(c.OutDir, fmt.Sprintf("rank-%d.grads", r)))
		d, scale := maxDiff(t, g, grads)
		t.Logf("rank %d: step-1 gradient max |diff| %.2e, max |g| %.2e", r, d, scale)
		if d > 1e-4*scale {
			t.Errorf("rank %d: the averaged gradient differs from one process's by %.2e (max |g| %.2e): over 1e-4 relative", r, d, scale)
		}
		p := readDump(t, filepath.Join(c.OutDir, fmt.Sprintf("rank-%d.params", r)))
		d, scale = maxDiff(t, p, params)
		t.Logf("rank %d: final parameters max |diff| %.2e, max |p| %.2e", r, d, scale)
		if d > 1e-4*scale {
			t.Errorf("rank %d: final parameters differ by %.2e (max |p| %.2e): over 1e-4 relative", r, d, scale)
		}
	}
}

// TestGlobalBatchNotDivisible: a global batch the ranks cannot share
// equally is refused with the way out.
func TestGlobalBatchNotDivisible(t *testing.T) {
	disttest.Mpirun(t)
	c := tinyRun(t)
	c.BatchSize = 15
	res := runRanks(t, rankJob{Config: c}, 3*time.Minute, "EFFV2VK_DEVICE=0")
	if res.ExitCode == 0 {
		t.Fatalf("--batch-size 15 over 2 ranks: exit 0:\n%s", res.Output)
	}
	if want := "--batch-size 15 (the global batch) is not a multiple of the 2 ranks"; !strings.Contains(res.Output, want) {
		t.Fatalf("output does not say %q:\n%s", want, res.Output)
	}
}
