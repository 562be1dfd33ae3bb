package dist_test

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/dist"
	"github.com/effv2vk/effv2vk/dist/disttest"
)

// workerEnv names the checks a test binary runs as a rank under mpirun.
const workerEnv = "EFFV2VK_DIST_TEST_WORKER"

func TestMain(m *testing.M) {
	if w := os.Getenv(workerEnv); w != "" {
		os.Exit(runWorker(w))
	}
	os.Exit(m.Run())
}

// runWorker runs as one rank: it prints "rank R: ok" or the first failure.
func runWorker(which string) int {
	c, err := dist.Join()
	if err != nil {
		fmt.Println("join:", err)
		return 1
	}
	switch which {
	case "collectives":
		err = checkCollectives(c)
	case "disagree":
		err = checkDisagree(c)
	case "bench":
		err = benchAllReduce(c)
	default:
		err = fmt.Errorf("unknown worker %q", which)
	}
	if err != nil {
		fmt.Printf("rank %d: FAIL: %v\n", c.Rank(), err)
	} else {
		fmt.Printf("rank %d: ok\n", c.Rank())
	}
	if ferr := c.Finalize(); ferr != nil && err == nil {
		fmt.Println("finalize:", ferr)
		return 1
	}
	if err != nil {
		return 1
	}
	return 0
}

func checkCollectives(c *dist.Comm) error {
	if c.Size() != 2 || c.LocalSize() != 2 || c.LocalRank() != c.Rank() || !c.Distributed() {
		return fmt.Errorf("rank %d of %d, local %d of %d: want 2 ranks on one machine", c.Rank(), c.Size(), c.LocalRank(), c.LocalSize())
	}
	r := float32(c.Rank())
	// An odd length over a small count limit: four calls, the last partial.
	dist.SetMaxCountForTest(1000)
	v := make([]float32, 3001)
	for i := range v {
		v[i] = float32(i) + 1000*r
	}
	if err := c.SumFloat32(v); err != nil {
		return err
	}
	for i, x := range v {
		if want := float32(2*i + 1000); x != want {
			return fmt.Errorf("SumFloat32[%d] = %v, want %v", i, x, want)
		}
	}
	d := []float64{0.5 + float64(c.Rank()), -3}
	if err := c.SumFloat64(d); err != nil {
		return err
	}
	if d[0] != 2 || d[1] != -6 {
		return fmt.Errorf("SumFloat64 = %v, want [2 -6]", d)
	}
	m := []float64{float64(c.Rank()), -float64(c.Rank())}
	if err := c.MaxFloat64(m); err != nil {
		return err
	}
	if m[0] != 1 || m[1] != 0 {
		return fmt.Errorf("MaxFloat64 = %v, want [1 0]", m)
	}
	b := make([]float32, 2500)
	for i := range b {
		b[i] = float32(i) * (r + 1)
	}
	if err := c.BroadcastFloat32(b, 1); err != nil {
		return err
	}
	for i, x := range b {
		if x != float32(2*i) {
			return fmt.Errorf("BroadcastFloat32 from rank 1: [%d] = %v, want %v", i, x, 2*i)
		}
	}
	msg := []byte(strings.Repeat("x", 1+c.Rank()*5000))
	got, err := c.BroadcastBytes(msg, 1)
	if err != nil {
		return err
	}
	if len(got) != 5001 {
		return fmt.Errorf("BroadcastBytes from rank 1: %d bytes, want 5001", len(got))
	}
	if err := c.BroadcastFloat32(b, 2); err == nil {
		return fmt.Errorf("BroadcastFloat32 from rank 2 of 2: no error")
	}
	if err := c.Barrier(); err != nil {
		return err
	}
	if err := checkIdleBarrier(c); err != nil {
		return err
	}
	names, err := c.AllStrings(strings.Repeat("r", c.Rank()+1))
	if err != nil {
		return err
	}
	if len(names) != 2 || names[0] != "r" || names[1] != "rr" {
		return fmt.Errorf("AllStrings = %q, want [r rr]", names)
	}
	return c.Agree([]dist.Setting{{Name: "--lr", Value: "0.1"}, {Name: "model", Value: "pico"}})
}

// checkIdleBarrier: rank 1 enters the barrier 400 ms after rank 0; rank 0
// waits for it, and spends little CPU time doing so (MPI_Barrier's busy
// polling spent 320 ms of the 410 ms here).
func checkIdleBarrier(c *dist.Comm) error {
	const late = 400 * time.Millisecond
	if c.Rank() == 1 {
		time.Sleep(late)
	}
	start, cpu := time.Now(), cpuTime()
	if err := c.IdleBarrier(5 * time.Millisecond); err != nil {
		return err
	}
	waited, spent := time.Since(start), cpuTime()-cpu
	if c.Rank() == 0 && (waited < late/2 || spent > waited/2) {
		return fmt.Errorf("IdleBarrier with rank 1 %v late: rank 0 waited %v using %v of CPU; want at least %v, with under half of it on the CPU", late, waited, spent, late/2)
	}
	return nil
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// checkDisagree passes when both ranks get Agree's error and rank 1's names
// the difference.
func checkDisagree(c *dist.Comm) error {
	lr := "0.1"
	if c.Rank() == 1 {
		lr = "0.2"
	}
	err := c.Agree([]dist.Setting{{Name: "model", Value: "pico"}, {Name: "--lr", Value: lr}})
	if !errors.Is(err, dist.ErrRanksDisagree) {
		return fmt.Errorf("Agree with --lr %s: got %v, want ErrRanksDisagree", lr, err)
	}
	want := "rank(s) 1 differ from rank 0"
	if c.Rank() == 1 {
		want = "rank 1 has --lr 0.2, rank 0 has 0.1"
	}
	if !strings.Contains(err.Error(), want) {
		return fmt.Errorf("Agree's error %q does not say %q", err, want)
	}
	return nil
}

func TestTwoRanksCollectives(t *testing.T) {
	res := disttest.Run(t, 2, 2*time.Minute, []string{workerEnv + "=collectives"})
	if res.ExitCode != 0 || !strings.Contains(res.Output, "rank 0: ok") || !strings.Contains(res.Output, "rank 1: ok") {
		t.Fatalf("mpirun exit %d (timed out %v):\n%s", res.ExitCode, res.TimedOut, res.Output)
	}
}

func TestTwoRanksDisagree(t *testing.T) {
	res := disttest.Run(t, 2, 2*time.Minute, []string{workerEnv + "=disagree"})
	if res.ExitCode != 0 || !strings.Contains(res.Output, "rank 0: ok") || !strings.Contains(res.Output, "rank 1: ok") {
		t.Fatalf("mpirun exit %d (timed out %v):\n%s", res.ExitCode, res.TimedOut, res.Output)
	}
}

// TestSingleProcessNeverLoadsMPI: without mpirun, Join is a one-rank Comm
// whose collectives leave buffers as they are, and libmpi is not mapped.
func TestSingleProcessNeverLoadsMPI(t *testing.T) {
	if dist.Launched() {
		t.Skip("this test process itself runs under mpirun")
	}
	c, err := dist.Join()
	if err != nil {
		t.Fatal(err)
	}
	if c.Rank() != 0 || c.Size() != 1 || c.LocalRank() != 0 || c.Distributed() {
		t.Fatalf("single process: rank %d of %d, local %d, distributed %v", c.Rank(), c.Size(), c.LocalRank(), c.Distributed())
	}
	v := []float32{1, 2, 3}
	if err := c.SumFloat32(v); err != nil || v[0] != 1 || v[2] != 3 {
		t.Fatalf("SumFloat32 on one rank: %v %v", v, err)
	}
	b, err := c.BroadcastBytes([]byte("abc"), 0)
	if err != nil || string(b) != "abc" {
		t.Fatalf("BroadcastBytes on one rank: %q %v", b, err)
	}
	if err := c.Agree([]dist.Setting{{Name: "a", Value: "b"}}); err != nil {
		t.Fatal(err)
	}
	if err := c.Finalize(); err != nil {
		t.Fatal(err)
	}
	maps, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		t.Skipf("no /proc/self/maps: %v", err)
	}
	if strings.Contains(string(maps), "libmpi") {
		t.Fatal("a single process has libmpi mapped")
	}
}

// v2sGradients is EfficientNetV2-S's parameter count (1000 classes), plus
// the three values training appends (loss, correct count, stop flag).
const v2sGradients = 21458488 + 3

// benchAllReduce times seven in-place sums of V2-S's gradients, each with
// the averaging scale training applies, and prints the median.
func benchAllReduce(c *dist.Comm) error {
	buf := make([]float32, v2sGradients)
	for i := range buf {
		buf[i] = float32(i%1000) * 1e-3
	}
	var times []float64
	for run := 0; run < 7; run++ {
		if err := c.Barrier(); err != nil {
			return err
		}
		start := time.Now()
		if err := c.SumFloat32(buf); err != nil {
			return err
		}
		for i := range buf {
			buf[i] *= 0.5
		}
		times = append(times, time.Since(start).Seconds()*1000)
	}
	sort.Float64s(times)
	fmt.Printf("rank %d: allreduce-ms %.1f (min %.1f max %.1f)\n", c.Rank(), times[3], times[0], times[6])
	return nil
}

// BenchmarkAllReduceV2SGradients launches two ranks that sum V2-S's 85.8 MB
// of gradients in place (as every training step does) and reports rank 0's
// median time of seven.
func BenchmarkAllReduceV2SGradients(b *testing.B) {
	for i := 0; i < b.N; i++ {
		res := disttest.Run(b, 2, 5*time.Minute, []string{workerEnv + "=bench"})
		if res.ExitCode != 0 {
			b.Fatalf("mpirun exit %d:\n%s", res.ExitCode, res.Output)
		}
		for _, l := range strings.Split(res.Output, "\n") {
			if f := strings.Fields(l); len(f) > 3 && f[0] == "rank" && f[1] == "0:" && f[2] == "allreduce-ms" {
				ms, err := strconv.ParseFloat(f[3], 64)
				if err != nil {
					b.Fatal(err)
				}
				b.ReportMetric(ms, "allreduce-ms")
				b.Log(strings.TrimSpace(l))
			}
		}
	}
}
