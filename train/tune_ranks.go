package train

import (
	"os"
	"strings"
	"time"

	"github.com/effv2vk/effv2vk/dist"
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/progressive"
)

// tuneWaitPoll is how often a rank waiting for another to finish timing on
// their shared device checks whether it has.
const tuneWaitPoll = 50 * time.Millisecond

// DeviceSelector is the device comm's rank opens for a run under cfg, as
// Run chooses it: --device or $EFFV2VK_DEVICE when given, else under
// mpirun the device whose index is the rank's node-local rank.
func DeviceSelector(cfg Config, comm *dist.Comm) string {
	r := &run{cfg: cfg, comm: comm}
	return r.deviceSelector()
}

// TuneRank is Tune for comm's rank of an mpirun job (Tune itself when
// comm is a single process): it records what this rank of `effv2vk train`
// under cfg records (the training step at --batch-size/ranks images
// without the update, the optimizer and EMA update on its own as it runs
// after the gradient all-reduce, the evaluation, the EMA swap), through
// the code Run uses, with train's errors (a --batch-size the ranks cannot
// share). Every rank records the same graphs, so ranks that drive one
// device (the same device ID on the same machine) and share its cache
// file need one tuning: the lowest of them tunes while the others wait
// idle, and they find its choices in the cache when they train. Ranks of
// one device with different cache files tune one after the other (never
// timing kernels against each other); ranks on different devices tune at
// once, each its own. It is collective (every rank calls it) and returns
// the rank whose tuning serves this rank (this rank when it tuned).
func TuneRank(d *engine.Device, cfg Config, comm *dist.Comm, shape *DataShape, stage func(st progressive.Stage, sched progressive.Schedule)) (tuner int, err error) {
	if !comm.Distributed() {
		return comm.Rank(), Tune(d, cfg, shape, stage)
	}
	r := &run{cfg: cfg, comm: comm}
	if err := cfg.validate(); err != nil {
		return 0, r.rankError(err)
	}
	if err := r.checkRanks(); err != nil {
		return 0, r.rankError(err)
	}
	host, err := os.Hostname()
	if err != nil {
		return 0, r.rankError(err)
	}
	device := host + " " + d.TuneDeviceID()
	places, err := comm.AllStrings(device + "\n" + d.TuneCachePath())
	if err != nil {
		return 0, r.rankError(err)
	}
	me := comm.Rank()
	tuner, turn, turns := tuneTurns(places, me)
	for t := 0; t < turns; t++ {
		if t == turn && tuner == me {
			if err := tuneGraphs(d, cfg, comm, shape, stage); err != nil {
				return tuner, r.rankError(err)
			}
		}
		if err := comm.IdleBarrier(tuneWaitPoll); err != nil {
			return tuner, r.rankError(err)
		}
	}
	return tuner, nil
}

// tuneTurns plans the tuning of ranks at places ("device\ncache file", by
// rank): the first rank of each place tunes for it; the places of one
// device take turns, in rank order. It returns the rank tuning for me's
// place, the turn it tunes in and the number of turns.
func tuneTurns(places []string, me int) (tuner, turn, turns int) {
	tuner = -1
	perDevice := map[string]int{}
	seen := map[string]bool{}
	for rank, place := range places {
		if seen[place] {
			continue
		}
		seen[place] = true
		device, _, _ := strings.Cut(place, "\n")
		if place == places[me] {
			tuner, turn = rank, perDevice[device]
		}
		perDevice[device]++
		turns = max(turns, perDevice[device])
	}
	return tuner, turn, turns
}
