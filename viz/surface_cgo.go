package viz

/*
#include <stdint.h>

// glfwCreateWindowSurface is GLFW's (compiled by github.com/go-gl/glfw and
// linked into the same binary), declared with plain types: VkInstance is a
// pointer, VkSurfaceKHR a 64-bit handle and VkResult a 32-bit enum. Calling
// it directly returns the handle by value; the Go wrapper returns the
// address of a Go variable as a uintptr, which the garbage collector may
// reclaim before it is read.
int32_t glfwCreateWindowSurface(void *instance, void *window, const void *allocator, uint64_t *surface);

static int32_t viz_create_surface(void *instance, void *window, uint64_t *surface) {
	return glfwCreateWindowSurface(instance, window, 0, surface);
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// createWindowSurface creates a VkSurfaceKHR for the GLFW window (its
// GLFWwindow pointer) on a VkInstance.
func createWindowSurface(instance, window unsafe.Pointer) (uint64, error) {
	var surface C.uint64_t
	if ret := C.viz_create_surface(instance, window, &surface); ret != 0 {
		return 0, fmt.Errorf("glfwCreateWindowSurface: VkResult %d", int32(ret))
	}
	return uint64(surface), nil
}
