package engine

import (
	"errors"
	"fmt"

	vk "github.com/vulkan-go/vulkan"
)

// ErrOutOfDeviceMemory is wrapped by allocation errors when the device has no
// room left for a request.
var ErrOutOfDeviceMemory = errors.New("out of device memory")

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
