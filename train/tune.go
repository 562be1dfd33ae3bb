package train

import (
	"fmt"

	"github.com/effv2vk/effv2vk/data"
	"github.com/effv2vk/effv2vk/dist"
	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/progressive"
)

// DataShape is what a run's graphs take from its data: the class count and
// the side and channels of the uint8 images fed to the device.
type DataShape struct {
	Classes int
	// Side is the square images' side (the first training image's height:
	// the loader resizes each image's shorter side to it and center-crops,
	// so mixed-size folders work).
	Side int
	// Channels and TestChannels are the training and the test split's
	// image channels (1 or 3).
	Channels, TestChannels int
}

// dataShape reads the shape of a run's data from its splits.
func dataShape(trainDS, testDS data.Dataset) (DataShape, error) {
	_, h, _, err := trainDS.Image(0)
	if err != nil {
		return DataShape{}, fmt.Errorf("train: reading the first training image for its size: %w", err)
	}
	return DataShape{Classes: trainDS.NumClasses(), Side: h, Channels: trainDS.Channels(), TestChannels: testDS.Channels()}, nil
}

// Tune records on d, and frees, every graph a single-process training run
// under cfg records: each stage's training step (its image size and
// regularization, the optimizer and EMA update appended) and its
// evaluation forward pass, and the EMA weight swap. With tuning on, every
// tunable operation of the run is decided (timed, or read from the cache)
// ahead of training, by the same code the run records its graphs with.
// shape is the data's (nil: read from cfg's datasets, as Run does).
// Nothing is written to cfg.OutDir. When stage is not nil it is called
// before each stage's graphs are recorded, with the stage and the schedule.
// TuneRank does the same for a rank of an mpirun job.
func Tune(d *engine.Device, cfg Config, shape *DataShape, stage func(st progressive.Stage, sched progressive.Schedule)) error {
	return tuneGraphs(d, cfg, dist.Single(), shape, stage)
}

// tuneGraphs records and frees the graphs this process records as comm's
// rank of a run under cfg (see Tune): with several ranks, the training
// step at the local batch without the update, and the update on its own,
// as Run records them (TuneRank checked that the ranks can share the
// batch; a single process's batch is not checked, as before, so that
// `effv2vk tune --batch-size 1 --raw-size N` still tunes).
func tuneGraphs(d *engine.Device, cfg Config, comm *dist.Comm, shape *DataShape, stage func(st progressive.Stage, sched progressive.Schedule)) error {
	if err := cfg.validate(); err != nil {
		return err
	}
	r := &run{cfg: cfg, comm: comm, dev: d}
	defer r.release()
	if shape == nil {
		trainDS, testDS, err := openDatasets(cfg)
		if err != nil {
			return err
		}
		s, err := dataShape(trainDS, testDS)
		if err != nil {
			return err
		}
		shape = &s
	}
	if err := r.describe(*shape); err != nil {
		return err
	}
	if err := r.build(); err != nil {
		return err
	}
	if err := r.recordUpdate(); err != nil {
		return err
	}
	for _, st := range r.sched.Stages {
		if stage != nil {
			stage(st, r.sched)
		}
		g, err := r.recordStage(st)
		if err != nil {
			return err
		}
		g.Free()
		r.evalSize = st.ImageSize
		if _, err := r.evalGraph(); err != nil {
			return err
		}
	}
	if r.ema == nil {
		return nil
	}
	return r.recordEMASwap() // the run evaluates with the EMA weights swapped in
}
