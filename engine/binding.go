package engine

import (
	"errors"
	"fmt"
)

// ErrBindingTooLarge is wrapped by dispatch errors when a kernel would bind
// more of a tensor than the device's maxStorageBufferRange (or, through a
// texel view, maxTexelBufferElements) allows.
var ErrBindingTooLarge = errors.New("binding larger than the device's maxStorageBufferRange")

// bindingRangeError explains a binding beyond the device's limit.
func bindingRangeError(t *Tensor, max uint64, device string) error {
	return fmt.Errorf("%w: %s is %s, more than %s's limit of %s for one binding; the operation binding it does not split its work (activations [N,...] are split along the batch by package ops; a single sample larger than the limit needs a smaller image size)",
		ErrBindingTooLarge, t, formatBytes(t.bytes), device, formatBytes(max))
}

// MaxBindingElements is the most elements of dt one storage-buffer binding
// may hold on this device, rounded down to the offset alignment so that
// ranges cut at multiples of it can be bound as slices.
func (d *Device) MaxBindingElements(dt DType) int {
	align := uint64(d.OffsetAlignment())
	return int(d.Info.MaxStorageBufferRange / align * align / uint64(dt.Size()))
}

// MaxBindingBytes is the most bytes of one tensor a dispatch may bind on
// this device, whichever way the kernel reads it: maxStorageBufferRange for
// a storage buffer, maxTexelBufferElements texels of 4 bytes (the narrowest
// texel format the kernels use) for a texel view.
func (d *Device) MaxBindingBytes() uint64 {
	limit := d.Info.MaxStorageBufferRange
	if texel := d.Info.MaxTexelBufferElements * 4; texel > 0 && texel < limit {
		limit = texel
	}
	return limit
}
