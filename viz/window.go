package viz

import (
	"errors"
	"fmt"
	"image"
	"runtime"
	"time"
	"unsafe"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/go-gl/glfw/v3.3/glfw"
)

// glfwWindow adapts a GLFW window to engine.Window.
type glfwWindow struct{ w *glfw.Window }

func (g glfwWindow) InstanceExtensions() []string { return g.w.GetRequiredInstanceExtensions() }

func (g glfwWindow) CreateSurface(instance unsafe.Pointer) (uint64, error) {
	return createWindowSurface(instance, g.w.Handle())
}

func (g glfwWindow) FramebufferSize() (int, int) { return g.w.GetFramebufferSize() }

// WindowTitle is the title of the window showing run directory dir.
func WindowTitle(dir string) string { return "effv2vk visualize: " + dir }

// keyOf maps a GLFW key to a viz key.
func keyOf(k glfw.Key) Key {
	switch k {
	case glfw.KeyQ, glfw.KeyEscape:
		return KeyQuit
	case glfw.KeyLeft:
		return KeyLeft
	case glfw.KeyRight:
		return KeyRight
	case glfw.KeyUp:
		return KeyUp
	case glfw.KeyDown:
		return KeyDown
	}
	return KeyNone
}

// runWindow opens the window and follows the run until it is closed (or,
// with a screenshot requested, until opts.Frames frames were shown).
func runWindow(opts Options, run *Run) (err error) {
	// GLFW must stay on one OS thread (the main one, for commands: see
	// init in glfw_thread.go).
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if err := glfw.Init(); err != nil {
		return fmt.Errorf("viz: cannot open a window (%v): run under Xvfb or use --headless --screenshot FILE.png", err)
	}
	defer glfw.Terminate()
	if !glfw.VulkanSupported() {
		return fmt.Errorf("viz: GLFW finds no Vulkan loader for windows: use --headless --screenshot FILE.png")
	}
	glfw.WindowHint(glfw.ClientAPI, glfw.NoAPI)
	glfw.WindowHint(glfw.Resizable, glfw.True)
	win, err := glfw.CreateWindow(opts.Width, opts.Height, WindowTitle(opts.RunDir), nil, nil)
	if err != nil {
		return fmt.Errorf("viz: creating the window: %v", err)
	}
	defer win.Destroy()
	dev, sc, err := engine.OpenWindow(engine.Options{Select: opts.Device, Validate: opts.Validate}, glfwWindow{win})
	if err != nil {
		return err
	}
	defer closeChecked(dev, &err)
	defer sc.Close()
	r, err := NewRenderer(dev)
	if err != nil {
		return err
	}
	defer r.Close()

	var view View
	dirty, resized, quit := true, false, false
	win.SetKeyCallback(func(_ *glfw.Window, k glfw.Key, _ int, action glfw.Action, _ glfw.ModifierKey) {
		if action == glfw.Release {
			return
		}
		if view.Press(keyOf(k)) {
			quit = true
		}
		dirty = true
	})
	win.SetFramebufferSizeCallback(func(*glfw.Window, int, int) { resized, dirty = true, true })
	win.SetRefreshCallback(func(*glfw.Window) { dirty = true })

	watch := &runWatcher{dir: opts.RunDir}
	watch.changed()
	lastPoll := time.Now()
	shown := 0
	finished := opts.Finished
	for !quit && !win.ShouldClose() {
		select {
		case msg, ok := <-finished:
			if ok {
				view.Finished, dirty = msg, true
			}
			finished = nil
		case <-opts.Quit:
			quit = true
			continue
		default:
		}
		if time.Since(lastPoll) >= opts.Poll {
			lastPoll = time.Now()
			if watch.changed() {
				if fresh, err := ReadRun(opts.RunDir); err == nil {
					run, dirty = fresh, true
				}
			}
		}
		if resized {
			switch err := sc.Resize(); {
			case errors.Is(err, engine.ErrWindowMinimized):
				glfw.WaitEventsTimeout(opts.Poll.Seconds())
				continue
			case err != nil:
				return err
			}
			resized = false
		}
		if dirty || opts.Screenshot != "" {
			capture := opts.Screenshot != "" && shown == opts.Frames-1
			img, err := showFrame(dev, r, sc, run, view, capture)
			switch {
			case errors.Is(err, engine.ErrSurfaceChanged), errors.Is(err, engine.ErrWindowMinimized):
				resized = true
				continue
			case err != nil:
				return err
			}
			dirty = false
			shown++
			if shown == 1 && opts.resizeTo != (image.Point{}) {
				win.SetSize(opts.resizeTo.X, opts.resizeTo.Y)
			}
			if capture {
				return saveShot(opts, img)
			}
		}
		if opts.Screenshot != "" {
			glfw.PollEvents()
		} else {
			glfw.WaitEventsTimeout(opts.Poll.Seconds())
		}
	}
	return nil
}
