// Package engine owns everything Vulkan in effv2vk; it is the only package
// that imports github.com/vulkan-go/vulkan.
//
// Its nouns, each with one job:
//   - Device: the instance, the chosen physical device, the logical device and
//     its compute queue, the memory arenas, the pipeline cache and (with
//     validation on) the collected validation messages.
//   - Tensor: a typed, shaped range of device memory, bindable as a storage
//     buffer or as a texel buffer, with Upload and Download.
//   - Kernel: a compute pipeline built from the generated shader index
//     (package shaders), with specialization constants.
//   - Sequence: a recorded command buffer. Dispatches are recorded once, with
//     exactly the barriers their reads and writes need (derived from the
//     shaders' readonly/writeonly qualifiers), and replayed with Run as often
//     as needed.
//
// Device selection: Options.Select or $EFFV2VK_DEVICE (an index or a name
// substring); the default prefers a discrete GPU, then integrated, virtual
// and CPU devices. $EFFV2VK_VALIDATE=1 turns on the Khronos validation layer
// with synchronization validation; each Device collects the messages
// reported while it is open (every device open at that moment gets the
// message) and returns them from Device.ValidationMessages. A missing layer
// (ErrValidationLayerMissing), a $VK_DRIVER_FILES naming a missing or broken
// driver (ErrDriverFiles) and a machine without a device (ErrNoDevice) are
// told apart.
//
// Teardown is explicit and in reverse order of creation: Sequence.Release,
// Tensor.Free, Device.Close.
package engine
