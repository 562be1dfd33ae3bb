package data

import (
	"errors"
	"io"
	"sort"
	"sync"
)

// ErrLoaderClosed is returned by Next after Close.
var ErrLoaderClosed = errors.New("data: loader closed")

// Loader produces the batches of one epoch in a fixed order. Workers build
// whole batches in parallel; at most Prefetch batches wait ahead of Next.
// Every batch depends only on the dataset, the options and its index, never
// on the number of workers or their scheduling.
type Loader struct {
	ds         Dataset
	opts       Options
	order      []int // dataset index of each epoch position
	numBatches int

	jobs    chan batchJob
	pending chan chan batchResult // results in epoch order, at most Prefetch
	free    chan *Batch           // released batches, for reuse
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	next int   // index of the batch Next returns next
	err  error // sticky error from a batch or Close

	skipMu  sync.Mutex
	skipped map[int]string // corrupt dataset index -> name
}

type batchJob struct {
	index  int
	result chan batchResult
}

type batchResult struct {
	batch *Batch
	err   error
}

// NewLoader starts the workers for one epoch of ds. Call Close when done,
// also after an error.
func NewLoader(ds Dataset, opts Options) (*Loader, error) {
	opts, err := opts.resolved(ds)
	if err != nil {
		return nil, err
	}
	n := ds.Len()
	l := &Loader{
		ds:         ds,
		opts:       opts,
		order:      epochOrder(n, opts),
		numBatches: BatchesPerEpoch(n, opts.BatchSize, opts.DropLast),
		jobs:       make(chan batchJob),
		pending:    make(chan chan batchResult, opts.Prefetch),
		free:       make(chan *Batch, opts.Prefetch+opts.Workers+1),
		done:       make(chan struct{}),
		skipped:    map[int]string{},
	}
	l.wg.Add(1 + opts.Workers)
	go l.dispatch()
	for w := 0; w < opts.Workers; w++ {
		go l.work()
	}
	return l, nil
}

// BatchesPerEpoch returns how many batches n samples make.
func BatchesPerEpoch(n, batchSize int, dropLast bool) int {
	if batchSize <= 0 {
		return 0
	}
	if dropLast {
		return n / batchSize
	}
	return (n + batchSize - 1) / batchSize
}

// epochOrder returns the dataset index of each position of the epoch.
func epochOrder(n int, opts Options) []int {
	if opts.Shuffle {
		return newRand(opts.Seed, opts.Epoch, 0, streamShuffle).Perm(n)
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	return order
}

// Len returns the number of batches in the epoch.
func (l *Loader) Len() int { return l.numBatches }

// Next returns the next batch, io.EOF after the last one, or the first error
// any batch met (which names the bad file). The batch stays valid until it
// is passed to Release; Next is not safe for concurrent use.
func (l *Loader) Next() (*Batch, error) {
	select {
	case <-l.done:
		return nil, ErrLoaderClosed
	default:
	}
	if l.err != nil {
		return nil, l.err
	}
	if l.next >= l.numBatches {
		return nil, io.EOF
	}
	var r batchResult
	select {
	case ch := <-l.pending:
		select {
		case r = <-ch:
		case <-l.done:
			r.err = ErrLoaderClosed
		}
	case <-l.done:
		r.err = ErrLoaderClosed
	}
	if r.err != nil {
		l.err = r.err
		return nil, r.err
	}
	l.next++
	return r.batch, nil
}

// Release hands a batch back for reuse; it must not be used afterwards.
func (l *Loader) Release(b *Batch) {
	if b == nil {
		return
	}
	select {
	case l.free <- b:
	default:
	}
}

// Close stops the workers and waits for them; it is safe to call more than
// once, and from another goroutine than Next's. Next returns ErrLoaderClosed afterwards.
func (l *Loader) Close() error {
	l.once.Do(func() {
		close(l.done)
		l.wg.Wait()
	})
	return nil
}

// Skipped returns how many distinct corrupt samples SkipCorrupt has skipped.
func (l *Loader) Skipped() int {
	l.skipMu.Lock()
	defer l.skipMu.Unlock()
	return len(l.skipped)
}

// SkippedNames returns the sorted names (file paths) of the skipped samples.
func (l *Loader) SkippedNames() []string {
	l.skipMu.Lock()
	defer l.skipMu.Unlock()
	names := make([]string, 0, len(l.skipped))
	for _, name := range l.skipped {
		names = append(names, name)
	}
	sort.Strings(names)
	return names
}

// dispatch queues the batches in order; the pending queue's capacity bounds
// how far the workers run ahead of Next.
func (l *Loader) dispatch() {
	defer l.wg.Done()
	defer close(l.jobs)
	for i := 0; i < l.numBatches; i++ {
		job := batchJob{index: i, result: make(chan batchResult, 1)}
		select {
		case l.pending <- job.result:
		case <-l.done:
			return
		}
		select {
		case l.jobs <- job:
		case <-l.done:
			return
		}
	}
}

// work builds batches until the jobs run out or the loader closes.
func (l *Loader) work() {
	defer l.wg.Done()
	var w worker
	for {
		select {
		case <-l.done:
			return
		case job, ok := <-l.jobs:
			if !ok {
				return
			}
			var b *Batch
			select {
			case b = <-l.free:
			default:
				b = new(Batch)
			}
			err := l.build(&w, b, job.index)
			if err != nil {
				b = nil
			}
			job.result <- batchResult{batch: b, err: err} // buffered: never blocks
		}
	}
}

// recordSkip remembers that dataset sample i was corrupt.
func (l *Loader) recordSkip(i int) {
	l.skipMu.Lock()
	defer l.skipMu.Unlock()
	l.skipped[i] = sampleName(l.ds, i)
}
