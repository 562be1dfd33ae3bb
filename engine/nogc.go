package engine

import (
	"runtime/debug"
	"sync"
)

// vulkan-go copies create-info structs into C memory that it frees from a
// finalizer set on a local variable, which becomes unreachable during the
// C call itself: a garbage collection in the middle of a long call (a
// pipeline compile) frees memory the driver is still reading, seen here as
// std::bad_alloc and SIGSEGV in vkCreateComputePipelines about once in 15
// test runs. Every engine call into vulkan-go that passes such structs runs
// inside withoutGC, during which no collection can start (debug.SetGCPercent(-1)
// waits for a running mark phase to finish).

var gcPause struct {
	sync.Mutex
	depth int
	saved int
}

// withoutGC runs fn with the garbage collector paused. Calls nest.
func withoutGC(fn func()) {
	gcPause.Lock()
	if gcPause.depth == 0 {
		gcPause.saved = debug.SetGCPercent(-1)
	}
	gcPause.depth++
	gcPause.Unlock()
	defer func() {
		gcPause.Lock()
		gcPause.depth--
		if gcPause.depth == 0 {
			debug.SetGCPercent(gcPause.saved)
		}
		gcPause.Unlock()
	}()
	fn()
}
