package train

import (
	"math"
	"time"
)

// CheckpointMinutes is the default spacing of mid-epoch checkpoints, in
// minutes of training: a crash or `kill -9` loses at most about that much.
const CheckpointMinutes = 10

// timedSteps is how many steps (after the first, which pays for pipeline
// compilation) the default interval waits to measure the step time.
const timedSteps = 10

// defaultCheckpointEvery turns a measured step time into the default
// interval: the steps that fill CheckpointMinutes, or 0 (no mid-epoch
// checkpoint) when an epoch of perEpoch steps is shorter than that, since
// the epoch's own checkpoint comes first.
func defaultCheckpointEvery(stepSeconds float64, perEpoch int) int {
	if !(stepSeconds > 0) {
		return 0
	}
	n := math.Ceil(CheckpointMinutes * 60 / stepSeconds)
	if n >= float64(perEpoch) {
		return 0
	}
	return max(int(n), 1)
}

// checkpointClock decides when to write mid-epoch checkpoints: every
// Config.CheckpointEvery steps, or, by default, every CheckpointMinutes of
// training measured over this process's first steps.
type checkpointClock struct {
	every    int // steps between checkpoints (0: none, or not yet known)
	measure  bool
	started  time.Time
	steps    int
	perEpoch int
	// agree, when set, turns this process's measured step time into the
	// one every rank of a data-parallel job uses (checkpoints are
	// collective: all ranks must write them at the same steps).
	agree func(stepSeconds float64) float64
}

func newCheckpointClock(cfgEvery, perEpoch int) *checkpointClock {
	c := &checkpointClock{perEpoch: perEpoch}
	switch {
	case cfgEvery > 0:
		c.every = cfgEvery
	case cfgEvery == 0:
		c.measure = true
	}
	return c
}

// stepDone notes a finished step and reports whether a checkpoint is due
// after step (the run's step count); lastOfEpoch steps are left to the
// epoch's own checkpoint.
func (c *checkpointClock) stepDone(step int, lastOfEpoch bool) bool {
	if c.measure {
		c.steps++
		switch c.steps {
		case 1:
			c.started = time.Now() // the first step compiles pipelines
		case 1 + timedSteps:
			sec := time.Since(c.started).Seconds() / timedSteps
			if c.agree != nil {
				sec = c.agree(sec)
			}
			c.every = defaultCheckpointEvery(sec, c.perEpoch)
			c.measure = false
		}
	}
	return c.every > 0 && step%c.every == 0 && !lastOfEpoch
}
