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
//     as needed, or queued with Device.Submit, which returns at once: the
//     host waits later, on that submission's own fence (Pending.Wait), and
//     meanwhile may write tensors the queued work does not use. Sequences
//     are recorded for simultaneous use, so a replay may be queued behind
//     a pending one (not for profiled sequences).
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
// Memory: tensors live in device-local memory on the largest device-local
// heap, sub-allocated from blocks (16 MiB first, doubling to 256 MiB, each
// within maxMemoryAllocationSize, the heap limited by VK_EXT_memory_budget
// where the device has it). They are host-mapped only where that memory is
// host-visible, the heap large and host reads cheap (integrated GPUs, CPU
// devices such as lavapipe, host-cached memory); elsewhere Upload and
// Download go through staging buffers sized to the transfer (at most 64 MiB,
// larger transfers in chunks): uploads through host-visible coherent memory,
// downloads through host-cached memory. NewHostTensor makes a tensor in the
// upload memory, always mapped: inputs written while the device runs and
// copied into device tensors by a recorded Copy. Every offset is laid out at
// OffsetAlignment, at least 16 bytes, so a vec4 texel view of any slice is
// valid. Where tensors are not mapped but the device has device-local
// host-visible memory (a PCIe BAR window, or all of VRAM with resizable
// BAR), tensors of up to 64 KiB (step counters, hyperparameters, labels,
// losses, per-channel vectors; 8 MiB of them at most) live there, mapped:
// their Upload and Download are plain copies, with no staging copy and no
// wait (Tensor.Small).
//
// Memory plans: Device.Plan runs code that allocates tensors and records
// sequences without allocating or recording anything and returns the peak
// bytes it would hold; package net plans each graph's activations and
// scratch this way before allocating them.
//
// Binding limits: a tensor may be larger than maxStorageBufferRange; what a
// dispatch binds may not: Device.MaxBindingBytes, the smaller of
// maxStorageBufferRange and maxTexelBufferElements 4-byte texels (a larger
// binding fails with ErrBindingTooLarge). The rule for what spans more:
//   - elementwise work over flat tensors (the optimizers and the EMA over
//     parameters, gradients and their state) is cut into ranges of
//     MaxBindingElements, each its own dispatch; every element is computed
//     alone, so the result is bitwise the unsplit one;
//   - layers bind one parameter's slice at a time, so parameters never
//     span more than one of them;
//   - activations ([N,...] tensors and their gradients) are split along the
//     batch by package ops: an operation records one dispatch per slice of
//     whole samples (views by Tensor.Slice, starting on OffsetAlignment,
//     owned by the Sequence through Sequence.Own); per-sample results are
//     bitwise the unsplit ones, sums over the batch (weight gradients,
//     batch-norm statistics and backward sums) are added from per-slice
//     partials (Sequence.Scratch) in slice order: deterministic, equal to
//     float32 rounding. A single sample larger than the limit is an error
//     naming the tensor and the limit: the way out is a smaller image size.
//     The loss's [N,classes] tensors are not split.
//
// Switches make a device behave like a more constrained one, so these paths
// run on lavapipe (see switches.go): EFFV2VK_FORCE_STAGING=1,
// EFFV2VK_MAX_STORAGE_RANGE=BYTES, EFFV2VK_OFFSET_ALIGNMENT=4 (and
// EFFV2VK_FORCE_STAGING=bar, EFFV2VK_DEVICE_MEMORY=BYTES).
//
// Teardown is explicit and in reverse order of creation: Sequence.Release,
// Tensor.Free, Device.Close.
package engine
