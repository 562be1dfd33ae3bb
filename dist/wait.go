package dist

import "time"

// IdleBarrier is Barrier for a rank that may wait long while another
// works (e.g. times kernels on a device they share): instead of Open MPI's
// busy polling, which would take a core from the working rank, it checks
// every poll and sleeps in between.
func (c *Comm) IdleBarrier(poll time.Duration) error {
	if !c.Distributed() {
		return nil
	}
	var req *barrierRequest
	if err := c.do(func() (err error) { req, err = mpiIbarrier(); return err }); err != nil {
		return err
	}
	for {
		var done bool
		if err := c.do(func() (err error) { done, err = mpiTest(req); return err }); err != nil || done {
			return err
		}
		time.Sleep(poll)
	}
}

// AllStrings returns every rank's s, in rank order, on every rank (one
// broadcast from each rank: for a few short values). It is collective.
func (c *Comm) AllStrings(s string) ([]string, error) {
	out := make([]string, c.Size())
	for root := range out {
		b, err := c.BroadcastBytes([]byte(s), root)
		if err != nil {
			return nil, err
		}
		out[root] = string(b)
	}
	return out, nil
}
