package engine

import (
	"errors"
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// Pending is work submitted with Device.Submit that the host has not waited
// for yet. While it is pending, the host may write tensors that its
// sequences do not use (the input of the next step) but must not touch the
// ones they read or write, nor run its sequences with Device.Run.
type Pending struct {
	dev   *Device
	fence vk.Fence
	seqs  []*Sequence
	done  bool
	err   error
}

// Submit queues finished sequences, in order, as one submission and returns
// without waiting: the device runs them while the host prepares the next
// step. Each sequence starts and ends with a full barrier, so they run one
// after another and after everything submitted before. A sequence may be
// queued again while pending (the next replay runs after it), except a
// profiled one; sequences with host calls cannot be submitted (use Run),
// and Run refuses a sequence while it is pending.
func (d *Device) Submit(seqs ...*Sequence) (p *Pending, err error) {
	withoutGC(func() { p, err = d.submitNow(seqs) })
	return p, err
}

func (d *Device) submitNow(seqs []*Sequence) (*Pending, error) {
	if len(seqs) == 0 {
		return nil, errors.New("engine: submit of no sequence")
	}
	cmds := make([]vk.CommandBuffer, len(seqs))
	for i, s := range seqs {
		if s == nil || s.dev != d {
			return nil, fmt.Errorf("engine: submit: sequence %d is nil or belongs to another device", i)
		}
		if s.err != nil {
			return nil, s.err
		}
		if !s.finished {
			if err := s.finishNow(); err != nil {
				return nil, err
			}
		}
		switch {
		case s.released:
			return nil, fmt.Errorf("engine: submit of released sequence %s", s.Name)
		case len(s.steps) > 0:
			return nil, fmt.Errorf("engine: sequence %s has host calls: it cannot be submitted without waiting; use Device.Run", s.Name)
		case s.inFlight > 0 && s.profiling:
			return nil, fmt.Errorf("engine: profiled sequence %s is still pending: wait for it before submitting it again (its timestamps would be overwritten)", s.Name)
		}
		for _, t := range seqs[:i] {
			if t == s {
				return nil, fmt.Errorf("engine: sequence %s appears twice in one submission", s.Name)
			}
		}
		cmds[i] = s.cmd
	}
	var fence vk.Fence
	if err := check(vk.CreateFence(d.handle, &vk.FenceCreateInfo{SType: vk.StructureTypeFenceCreateInfo}, nil, &fence), "vkCreateFence"); err != nil {
		return nil, err
	}
	d.mu.Lock()
	ret := vk.QueueSubmit(d.queue, 1, []vk.SubmitInfo{{
		SType:              vk.StructureTypeSubmitInfo,
		CommandBufferCount: uint32(len(cmds)),
		PCommandBuffers:    cmds,
	}}, fence)
	d.mu.Unlock()
	if err := check(ret, "vkQueueSubmit"); err != nil {
		vk.DestroyFence(d.handle, fence, nil)
		return nil, err
	}
	for _, s := range seqs {
		s.inFlight++
	}
	return &Pending{dev: d, fence: fence, seqs: seqs}, nil
}

// Wait blocks until the submitted sequences have finished; their results
// are then visible to the host. Waiting again returns the first answer.
func (p *Pending) Wait() error {
	if p == nil {
		return nil
	}
	if p.done {
		return p.err
	}
	p.done = true
	d := p.dev
	err := check(vk.WaitForFences(d.handle, 1, []vk.Fence{p.fence}, vk.True, ^uint64(0)), "vkWaitForFences")
	vk.DestroyFence(d.handle, p.fence, nil)
	for _, s := range p.seqs {
		s.inFlight--
		if err == nil && s.profiling {
			err = s.collectTimes()
		}
	}
	if err != nil {
		p.err = fmt.Errorf("engine: waiting for %s: %w", p.seqs[0].Name, err)
	}
	return p.err
}
