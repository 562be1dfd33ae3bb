package engine

import (
	"errors"
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// ErrOutOfDeviceMemory is wrapped by allocation errors when the device has no
// room left for a request.
var ErrOutOfDeviceMemory = errors.New("out of device memory")

// ErrNoDevice is wrapped by the errors of Open when this machine has no
// usable Vulkan device: no Vulkan loader, no driver, or no device that
// supports Vulkan 1.1 with a compute queue.
var ErrNoDevice = errors.New("no Vulkan device")

// ErrValidationLayerMissing is wrapped by the errors of Open when
// validation is asked for but the Khronos validation layer is not
// installed.
var ErrValidationLayerMissing = errors.New("the Vulkan validation layer is not installed")

// ErrDriverFiles is wrapped by the errors of Open when $VK_DRIVER_FILES (or
// $VK_ICD_FILENAMES) names a missing or broken driver manifest, or a driver
// that offers no device.
var ErrDriverFiles = errors.New("bad Vulkan driver selection")

// check turns a Vulkan result into an error naming the failed operation.
func check(ret vk.Result, op string) error {
	if ret == vk.Success {
		return nil
	}
	if ret == vk.ErrorOutOfDeviceMemory {
		return fmt.Errorf("engine: %s: %w (reduce the batch size or image size)", op, ErrOutOfDeviceMemory)
	}
	return fmt.Errorf("engine: %s: %v (VkResult %d)", op, vk.Error(ret), int32(ret))
}

// cstr returns s terminated by NUL, as vulkan-go passes strings raw.
func cstr(s string) string {
	if len(s) > 0 && s[len(s)-1] == 0 {
		return s
	}
	return s + "\x00"
}
