package viz

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"time"

	"github.com/effv2vk/effv2vk/engine"
)

// Options configure Show.
type Options struct {
	RunDir   string // the training run's output directory
	Device   string // engine device selector ("" = default)
	Width    int    // window or image width (default 800)
	Height   int    // window or image height (default 600)
	Headless bool   // draw offscreen: no window, no display needed
	// Screenshot, when set, is the PNG file that receives what the window
	// (or the offscreen image) shows after Frames frames; the command then
	// exits.
	Screenshot string
	Frames     int           // frames drawn before the screenshot (default 1)
	Poll       time.Duration // how often the run directory is re-read (default 500ms)
	// Validate runs the Vulkan validation layer; any message it reports
	// makes Show fail.
	Validate bool
	// OnScreenshot, when set, is called with the screenshot while the
	// window is still open (tests compare it with an X screenshot).
	OnScreenshot func(img *image.RGBA) error
	// Finished, when set, delivers one line when the training behind the
	// window ends: the window shows it and how to exit, and stays open.
	Finished <-chan string
	// Quit, when set, closes the window when it is closed or receives
	// (e.g. on Ctrl-C while training).
	Quit <-chan struct{}

	// resizeTo, when set, resizes the window after its first frame (tests
	// of the resize path).
	resizeTo image.Point
}

func (o *Options) defaults() {
	if o.Width <= 0 {
		o.Width = 800
	}
	if o.Height <= 0 {
		o.Height = 600
	}
	if o.Frames <= 0 {
		o.Frames = 1
	}
	if o.Poll <= 0 {
		o.Poll = 500 * time.Millisecond
	}
}

// ErrNoDisplay says there is no display to open a window on.
var ErrNoDisplay = errors.New("viz: no display ($DISPLAY and $WAYLAND_DISPLAY are unset): run under Xvfb (e.g. `xvfb-run -s '-screen 0 1280x800x24' effv2vk visualize ...`) or use --headless --screenshot FILE.png")

// Show shows the run directory: in a window that follows the run live until
// q/Esc or closing it, or, with Headless, offscreen (Screenshot required).
func Show(opts Options) error {
	opts.defaults()
	if opts.Headless && opts.Screenshot == "" {
		return fmt.Errorf("viz: --headless draws offscreen and needs --screenshot FILE.png to say where the picture goes")
	}
	if opts.Screenshot != "" {
		if err := checkWritable(opts.Screenshot); err != nil {
			return err
		}
	}
	run, err := ReadRun(opts.RunDir)
	if err != nil {
		return err
	}
	if opts.Screenshot != "" && run.Empty() {
		return fmt.Errorf("viz: run directory %s is empty: no %s or %s yet (is `effv2vk train` writing to it?)", opts.RunDir, MetricsFile, SnapshotFile)
	}
	if opts.Headless {
		return runHeadless(opts, run)
	}
	if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
		return ErrNoDisplay
	}
	return runWindow(opts, run)
}

// checkWritable fails early when the screenshot's directory does not exist.
func checkWritable(path string) error {
	dir := filepath.Dir(path)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fmt.Errorf("viz: cannot write screenshot %s: directory %s does not exist", path, dir)
	}
	return nil
}

// target is where frames go: a window's swapchain or an offscreen image.
type target interface {
	Size() (w, h int)
	BGRA() bool
	Show(frame, readback *engine.Tensor) error
}

// showFrame composes, draws and shows one frame; with capture it also reads
// the shown image back.
func showFrame(dev *engine.Device, r *Renderer, t target, run *Run, v View, capture bool) (*image.RGBA, error) {
	w, h := t.Size()
	frame, err := r.Draw(Compose(run, v, w, h), t.BGRA())
	if err != nil {
		return nil, err
	}
	if !capture {
		return nil, t.Show(frame, nil)
	}
	rb, err := dev.NewTensor("viz.readback", engine.Uint32, h, w)
	if err != nil {
		return nil, err
	}
	defer rb.Free()
	if err := t.Show(frame, rb); err != nil {
		return nil, err
	}
	px := make([]uint32, w*h)
	if err := rb.Download(px); err != nil {
		return nil, err
	}
	return ToImage(px, w, h, t.BGRA()), nil
}

// runHeadless draws opts.Frames frames offscreen and writes the last.
func runHeadless(opts Options, run *Run) (err error) {
	dev, err := engine.Open(engine.Options{Select: opts.Device, Validate: opts.Validate})
	if err != nil {
		return err
	}
	defer closeChecked(dev, &err)
	off, err := dev.NewOffscreen(opts.Width, opts.Height)
	if err != nil {
		return err
	}
	defer off.Close()
	r, err := NewRenderer(dev)
	if err != nil {
		return err
	}
	defer r.Close()
	var img *image.RGBA
	for i := 0; i < opts.Frames; i++ {
		if img, err = showFrame(dev, r, off, run, View{}, i == opts.Frames-1); err != nil {
			return err
		}
	}
	return saveShot(opts, img)
}

// closeChecked closes dev and then turns its validation messages (those
// reported while closing included: leaked objects) into an error, when *err
// is nil.
func closeChecked(dev *engine.Device, err *error) {
	closeErr := dev.Close()
	msgs := dev.ValidationMessages()
	switch {
	case *err != nil:
	case len(msgs) > 0:
		*err = fmt.Errorf("viz: the validation layer reported %d message(s), the first: %s", len(msgs), msgs[0])
	case closeErr != nil:
		*err = closeErr
	}
}

// saveShot hands the screenshot to OnScreenshot and writes the PNG.
func saveShot(opts Options, img *image.RGBA) error {
	if opts.OnScreenshot != nil {
		if err := opts.OnScreenshot(img); err != nil {
			return err
		}
	}
	return WritePNG(opts.Screenshot, img)
}

// runWatcher re-reads a run directory when its files change.
type runWatcher struct {
	dir  string
	last [2]fileStamp
}

type fileStamp struct {
	size int64
	mod  time.Time
}

// changed reports whether metrics.jsonl or snapshot.json changed since the
// last call.
func (w *runWatcher) changed() bool {
	var now [2]fileStamp
	for i, name := range []string{MetricsFile, SnapshotFile} {
		if st, err := os.Stat(filepath.Join(w.dir, name)); err == nil {
			now[i] = fileStamp{st.Size(), st.ModTime()}
		}
	}
	if now == w.last {
		return false
	}
	w.last = now
	return true
}
