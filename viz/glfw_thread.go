package viz

import "runtime"

// GLFW wants its calls on the main OS thread. Locking the main goroutine
// to it during initialization keeps it there for a command's main function.
func init() { runtime.LockOSThread() }
