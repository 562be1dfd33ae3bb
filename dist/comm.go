package dist

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"strconv"
	"sync"
	"unsafe"
)

// Comm is this process's place in a job: its rank among Size processes and
// among the LocalSize processes of its machine. A single-process Comm
// (Size 1) does nothing in its collectives and never touches MPI.
type Comm struct {
	rank, size           int
	localRank, localSize int
	calls                chan func() // served by the MPI thread; nil when single
}

// maxCount is the largest element count of one MPI call (counts are C
// ints); larger buffers go in several calls. Tests lower it.
var maxCount = math.MaxInt32

var (
	joinOnce sync.Once
	joined   *Comm
	joinErr  error
)

// Launched reports whether this process was started by Open MPI's mpirun
// (or srun with Open MPI's PMIx), which sets OMPI_COMM_WORLD_SIZE.
func Launched() bool {
	return os.Getenv("OMPI_COMM_WORLD_SIZE") != ""
}

// Single returns the Comm of a process that is the whole job.
func Single() *Comm { return &Comm{size: 1, localSize: 1} }

// Join returns this process's Comm. Not launched by mpirun, it is Single
// and MPI is never loaded. Under mpirun the first call loads libmpi,
// initializes MPI (MPI_THREAD_FUNNELED, every call made from one locked OS
// thread) and finds the node-local rank; later calls return the same Comm.
func Join() (*Comm, error) {
	if !Launched() {
		return Single(), nil
	}
	joinOnce.Do(func() { joined, joinErr = join() })
	return joined, joinErr
}

func join() (*Comm, error) {
	c := &Comm{calls: make(chan func())}
	started := make(chan error)
	go func() {
		runtime.LockOSThread() // never unlocked: this thread belongs to MPI
		err := mpiLoad()
		if err == nil {
			c.rank, c.size, c.localRank, c.localSize, err = mpiInit()
		}
		started <- err
		if err != nil {
			return
		}
		for f := range c.calls {
			f()
		}
	}()
	if err := <-started; err != nil {
		return nil, err
	}
	if want := os.Getenv("OMPI_COMM_WORLD_SIZE"); want != strconv.Itoa(c.size) {
		return nil, fmt.Errorf("dist: MPI reports %d ranks but OMPI_COMM_WORLD_SIZE is %s: is this binary's Open MPI the one mpirun belongs to?", c.size, want)
	}
	return c, nil
}

// do runs f on the MPI thread and returns its error.
func (c *Comm) do(f func() error) error {
	done := make(chan error, 1)
	c.calls <- func() { done <- f() }
	return <-done
}

// Rank is this process's rank, 0 to Size-1; rank 0 writes the files.
func (c *Comm) Rank() int { return c.rank }

// Size is the number of processes in the job.
func (c *Comm) Size() int { return c.size }

// LocalRank is this process's rank among those on its machine; it picks
// the machine's device.
func (c *Comm) LocalRank() int { return c.localRank }

// LocalSize is the number of processes on this machine.
func (c *Comm) LocalSize() int { return c.localSize }

// Distributed reports whether the job has more than one process.
func (c *Comm) Distributed() bool { return c.calls != nil }

// SumFloat32 replaces buf on every rank with the element-wise sum of all
// ranks' buf (MPI_Allreduce in place, in as few calls as the int count
// allows). Every rank must call it with the same length.
func (c *Comm) SumFloat32(buf []float32) error {
	if !c.Distributed() || len(buf) == 0 {
		return nil
	}
	return c.do(func() error {
		for lo := 0; lo < len(buf); lo += maxCount {
			n := min(maxCount, len(buf)-lo)
			if err := mpiAllReduce(unsafe.Pointer(&buf[lo]), n, kindFloat32, opSum); err != nil {
				return err
			}
		}
		return nil
	})
}

// SumFloat64 is SumFloat32 for float64 values (counts, accumulated sums).
func (c *Comm) SumFloat64(buf []float64) error {
	if !c.Distributed() || len(buf) == 0 {
		return nil
	}
	return c.do(func() error {
		for lo := 0; lo < len(buf); lo += maxCount {
			n := min(maxCount, len(buf)-lo)
			if err := mpiAllReduce(unsafe.Pointer(&buf[lo]), n, kindFloat64, opSum); err != nil {
				return err
			}
		}
		return nil
	})
}

// MaxFloat64 replaces buf on every rank with the element-wise maximum.
func (c *Comm) MaxFloat64(buf []float64) error {
	if !c.Distributed() || len(buf) == 0 {
		return nil
	}
	return c.do(func() error {
		for lo := 0; lo < len(buf); lo += maxCount {
			n := min(maxCount, len(buf)-lo)
			if err := mpiAllReduce(unsafe.Pointer(&buf[lo]), n, kindFloat64, opMax); err != nil {
				return err
			}
		}
		return nil
	})
}

// BroadcastFloat32 copies root's buf into every rank's buf (same length on
// every rank).
func (c *Comm) BroadcastFloat32(buf []float32, root int) error {
	if err := c.checkRoot(root); err != nil || !c.Distributed() || len(buf) == 0 {
		return err
	}
	return c.do(func() error {
		for lo := 0; lo < len(buf); lo += maxCount {
			n := min(maxCount, len(buf)-lo)
			if err := mpiBroadcast(unsafe.Pointer(&buf[lo]), n, kindFloat32, root); err != nil {
				return err
			}
		}
		return nil
	})
}

// BroadcastBytes returns root's b on every rank; the lengths may differ
// (root's length is sent first).
func (c *Comm) BroadcastBytes(b []byte, root int) ([]byte, error) {
	if err := c.checkRoot(root); err != nil || !c.Distributed() {
		return b, err
	}
	n := []float64{float64(len(b))}
	if err := c.do(func() error { return mpiBroadcast(unsafe.Pointer(&n[0]), 1, kindFloat64, root) }); err != nil {
		return nil, err
	}
	out := make([]byte, int(n[0]))
	if c.rank == root {
		copy(out, b)
	}
	if len(out) == 0 {
		return out, nil
	}
	err := c.do(func() error {
		for lo := 0; lo < len(out); lo += maxCount {
			m := min(maxCount, len(out)-lo)
			if err := mpiBroadcast(unsafe.Pointer(&out[lo]), m, kindBytes, root); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// Barrier returns when every rank has called it.
func (c *Comm) Barrier() error {
	if !c.Distributed() {
		return nil
	}
	return c.do(mpiBarrier)
}

// Abort ends the whole job with code (MPI_Abort): for a rank that must stop
// while others may wait in a collective. A single process just exits.
func (c *Comm) Abort(code int) {
	if !c.Distributed() {
		os.Exit(code)
	}
	c.do(func() error { mpiAbort(code); return nil })
	os.Exit(code)
}

// Finalize shuts MPI down (MPI_Finalize); call it once, after the last
// collective, before the process exits normally. A no-op when single.
func (c *Comm) Finalize() error {
	if !c.Distributed() {
		return nil
	}
	return c.do(mpiFinalize)
}

func (c *Comm) checkRoot(root int) error {
	if root < 0 || root >= c.size {
		return fmt.Errorf("dist: broadcast root %d: the job has ranks 0..%d", root, c.size-1)
	}
	return nil
}

// ErrRanksDisagree is wrapped by Agree's error.
var ErrRanksDisagree = errors.New("dist: the ranks disagree")

// Finalize ends MPI for this process if Join started it (a no-op
// otherwise): call it once before a normal exit.
func Finalize() error {
	if joined == nil {
		return nil
	}
	return joined.Finalize()
}

// AbortJob ends every rank of the job with code when Join started MPI
// (MPI_Abort: a rank that failed must not leave the others waiting in a
// collective); otherwise it returns and the caller exits as usual.
func AbortJob(code int) {
	if joined != nil {
		joined.Abort(code)
	}
}
