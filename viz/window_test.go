package viz

import (
	"encoding/binary"
	"fmt"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/viz/xvfbtest"
)

// startXvfb starts a private X server for t and sets DISPLAY (see
// xvfbtest.Start).
func startXvfb(t *testing.T) string { return xvfbtest.Start(t) }

// xwdWindow captures the window named name on display with xwd and decodes
// it (ZPixmap, 24/32 bits per pixel, as Xvfb's 24-bit screen gives).
func xwdWindow(display, name string) (*image.RGBA, error) {
	out, err := exec.Command("xwd", "-display", display, "-name", name, "-silent").Output()
	if err != nil {
		return nil, fmt.Errorf("xwd: %v", err)
	}
	return decodeXWD(out)
}

// decodeXWD decodes an X window dump.
func decodeXWD(b []byte) (*image.RGBA, error) {
	if len(b) < 100 {
		return nil, fmt.Errorf("xwd: %d bytes is too short", len(b))
	}
	f := func(i int) uint32 { return binary.BigEndian.Uint32(b[4*i:]) }
	headerSize, format, width, height := f(0), f(2), int(f(4)), int(f(5))
	byteOrder, bpp, stride := f(7), f(11), int(f(12))
	redMask, greenMask, blueMask := f(14), f(15), f(16)
	ncolors := int(f(19))
	if format != 2 || bpp != 32 {
		return nil, fmt.Errorf("xwd: format %d with %d bits per pixel, want ZPixmap (2) at 32", format, bpp)
	}
	off := int(headerSize) + 12*ncolors
	if len(b) < off+stride*height {
		return nil, fmt.Errorf("xwd: truncated: %d bytes for %dx%d", len(b), width, height)
	}
	shift := func(m uint32) uint {
		s := uint(0)
		for m != 0 && m&1 == 0 {
			m >>= 1
			s++
		}
		return s
	}
	img := image.NewRGBA(image.Rect(0, 0, width, height))
	for y := 0; y < height; y++ {
		for x := 0; x < width; x++ {
			p := b[off+y*stride+4*x:]
			var v uint32
			if byteOrder == 0 {
				v = binary.LittleEndian.Uint32(p)
			} else {
				v = binary.BigEndian.Uint32(p)
			}
			o := img.PixOffset(x, y)
			img.Pix[o] = uint8((v & redMask) >> shift(redMask))
			img.Pix[o+1] = uint8((v & greenMask) >> shift(greenMask))
			img.Pix[o+2] = uint8((v & blueMask) >> shift(blueMask))
			img.Pix[o+3] = 255
		}
	}
	return img, nil
}

// TestWindowOnXvfb opens the window on a private Xvfb (lavapipe presents to
// it), resizes it after the first frame, and checks that the swapchain
// readback of the last frame shows the curves and equals an X screenshot
// of the window.
func TestWindowOnXvfb(t *testing.T) {
	display := startXvfb(t)
	t.Setenv("DISPLAY", display)
	t.Setenv("WAYLAND_DISPLAY", "")
	dir := t.TempDir()
	run := writeFixtureRun(t, dir)
	out := filepath.Join(t.TempDir(), "window.png")
	var shot, xshot *image.RGBA
	var xerr error
	err := Show(Options{RunDir: dir, Screenshot: out, Frames: 3, Validate: true, resizeTo: image.Point{X: 900, Y: 640},
		OnScreenshot: func(img *image.RGBA) error {
			shot = img
			// The X server gets the presented image shortly after the
			// present call: poll until the window shows it.
			deadline := time.Now().Add(5 * time.Second)
			for {
				xshot, xerr = xwdWindow(display, WindowTitle(dir))
				if xerr == nil && xshot.Rect == img.Rect && string(xshot.Pix) == string(img.Pix) || time.Now().After(deadline) {
					return nil
				}
				time.Sleep(100 * time.Millisecond)
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if xerr != nil {
		t.Fatal(xerr)
	}
	if shot.Rect.Dx() != 900 || shot.Rect.Dy() != 640 {
		t.Fatalf("after resizing to 900x640 the frame is %v", shot.Rect)
	}
	checkCurves(t, shot, run, View{})
	if xshot.Rect != shot.Rect {
		t.Fatalf("X screenshot is %v, readback %v", xshot.Rect, shot.Rect)
	}
	diff := 0
	for i := range shot.Pix {
		if shot.Pix[i] != xshot.Pix[i] {
			diff++
		}
	}
	if diff > 0 {
		t.Fatalf("the X screenshot differs from the swapchain readback in %d bytes", diff)
	}
	if _, err := os.Stat(out); err != nil {
		t.Errorf("no screenshot file: %v", err)
	}
}

// TestWindowsOneAfterAnother opens windows one after another in one process,
// each on its own X server, as a long-lived program would. A window's
// Vulkan instance must not outlive it: Mesa's WSI keyed per-connection
// state by the connection's address, and a new connection at a reused
// address ended the process with an X BadRequest (this test failed in 3 of
// 5 runs before the fix, 0 of 5 after).
func TestWindowsOneAfterAnother(t *testing.T) {
	dir := t.TempDir()
	writeFixtureRun(t, dir)
	for i := range 8 {
		display := startXvfb(t)
		t.Setenv("DISPLAY", display)
		t.Setenv("WAYLAND_DISPLAY", "")
		shots := 0
		err := Show(Options{RunDir: dir, Screenshot: filepath.Join(t.TempDir(), "w.png"), Frames: 1, Validate: true,
			OnScreenshot: func(*image.RGBA) error { shots++; return nil }})
		if err != nil {
			t.Fatalf("window %d: %v", i+1, err)
		}
		if shots != 1 {
			t.Fatalf("window %d: %d screenshots, want 1", i+1, shots)
		}
	}
}

// TestWindowFinishedThenQuit opens a live window (no screenshot) with the
// training's end already reported: the window takes the finished line,
// stays open, and closes when Quit is closed (as Ctrl-C does).
func TestWindowFinishedThenQuit(t *testing.T) {
	display := startXvfb(t)
	t.Setenv("DISPLAY", display)
	t.Setenv("WAYLAND_DISPLAY", "")
	dir := t.TempDir()
	writeFixtureRun(t, dir)
	finished := make(chan string, 1)
	finished <- "trained 3 steps"
	quit := make(chan struct{})
	go func() {
		start := time.Now()
		for len(finished) > 0 && time.Since(start) < 30*time.Second {
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond) // the window must stay open meanwhile
		close(quit)
	}()
	err := Show(Options{RunDir: dir, Validate: true, Poll: 50 * time.Millisecond, Finished: finished, Quit: quit})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-quit:
	default:
		t.Fatal("the window closed by itself before Quit")
	}
	if len(finished) != 0 {
		t.Fatal("the window never took the finished line")
	}
}
