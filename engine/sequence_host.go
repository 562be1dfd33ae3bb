package engine

import (
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// hostStep is a finished command buffer of a sequence followed by work on
// the host.
type hostStep struct {
	cmd   vk.CommandBuffer
	after func() error
}

// HostCall ends the command buffer recorded so far and has Run call f on
// the host once the device has executed it, before the commands recorded
// after this call. f may download and upload tensors (the device is idle
// meanwhile); its error stops Run. Each host call costs one more submit and
// wait on every Run: use them only where the host must take part (a
// reduction across processes).
func (s *Sequence) HostCall(f func() error) { withoutGC(func() { s.hostCallNow(f) }) }

func (s *Sequence) hostCallNow(f func() error) {
	if s.err != nil || s.planOnly {
		return
	}
	if s.finished {
		s.fail(fmt.Errorf("engine: host call recorded into the finished sequence %s", s.Name))
		return
	}
	fullBarrier(s.cmd) // the host reads what this part wrote
	if err := check(vk.EndCommandBuffer(s.cmd), "vkEndCommandBuffer "+s.Name); err != nil {
		s.fail(err)
		return
	}
	s.steps = append(s.steps, hostStep{cmd: s.cmd, after: f})
	cmd, err := s.dev.allocCommandBuffer()
	if err != nil {
		s.cmd = nil
		s.fail(err)
		return
	}
	s.cmd = cmd
	if err := check(vk.BeginCommandBuffer(cmd, &vk.CommandBufferBeginInfo{SType: vk.StructureTypeCommandBufferBeginInfo}), "vkBeginCommandBuffer "+s.Name); err != nil {
		s.fail(err)
		return
	}
	fullBarrier(cmd) // the next part reads what the host wrote
	s.hazards = map[vk.Buffer]*hazardState{}
}

// runHostSteps submits each part before the last, waiting for it and
// calling its host function.
func (d *Device) runHostSteps(s *Sequence) error {
	for i, st := range s.steps {
		if err := d.submitWait(st.cmd); err != nil {
			return fmt.Errorf("sequence %s part %d: %w", s.Name, i+1, err)
		}
		if err := st.after(); err != nil {
			return fmt.Errorf("sequence %s: host call %d: %w", s.Name, i+1, err)
		}
	}
	return nil
}

// freeHostSteps releases the command buffers of the parts before the last.
func (s *Sequence) freeHostSteps() {
	for _, st := range s.steps {
		vk.FreeCommandBuffers(s.dev.handle, s.dev.cmdPool, 1, []vk.CommandBuffer{st.cmd})
	}
	s.steps = nil
}
