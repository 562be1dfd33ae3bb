package engine

import (
	"errors"
	"fmt"
)

// ErrBindingTooLarge is wrapped by dispatch errors when a kernel would bind
// more of a tensor than the device's maxStorageBufferRange allows.
var ErrBindingTooLarge = errors.New("binding larger than the device's maxStorageBufferRange")

// bindingRangeError explains a binding beyond the device's limit.
func bindingRangeError(t *Tensor, max uint64, device string) error {
	factor := (t.bytes + max - 1) / max
	return fmt.Errorf("%w: %s is %s, more than %s's limit of %s; if it is an activation, a batch %d times smaller (or a smaller image size) brings it under the limit",
		ErrBindingTooLarge, t, formatBytes(t.bytes), device, formatBytes(max), factor)
}

// MaxBindingElements is the most elements of dt one storage-buffer binding
// may hold on this device, rounded down to the offset alignment so that
// ranges cut at multiples of it can be bound as slices.
func (d *Device) MaxBindingElements(dt DType) int {
	align := uint64(d.OffsetAlignment())
	return int(d.Info.MaxStorageBufferRange / align * align / uint64(dt.Size()))
}
