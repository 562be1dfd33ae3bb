package engine_test

import (
	"errors"
	"strings"
	"testing"
	"unsafe"

	"github.com/effv2vk/effv2vk/engine"
	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// TestOffscreenShowReadsBackTheFrame copies a frame into an offscreen image
// and back, at odd sizes, and checks every pixel.
func TestOffscreenShowReadsBackTheFrame(t *testing.T) {
	d := enginetest.Open(t)
	for _, sz := range [][2]int{{1, 1}, {37, 23}, {800, 600}} {
		w, h := sz[0], sz[1]
		off, err := d.NewOffscreen(w, h)
		if err != nil {
			t.Fatal(err)
		}
		if gw, gh := off.Size(); gw != w || gh != h || !off.BGRA() {
			t.Fatalf("offscreen %dx%d reports %dx%d, BGRA %v", w, h, gw, gh, off.BGRA())
		}
		frame, err := d.NewTensor("frame", engine.Uint32, h, w)
		if err != nil {
			t.Fatal(err)
		}
		back, err := d.NewTensor("back", engine.Uint32, h, w)
		if err != nil {
			t.Fatal(err)
		}
		px := make([]uint32, w*h)
		for i := range px {
			px[i] = uint32(i)*2654435761 | 0xff000000
		}
		if err := frame.Upload(px); err != nil {
			t.Fatal(err)
		}
		poison := make([]uint32, w*h)
		if err := back.Upload(poison); err != nil {
			t.Fatal(err)
		}
		for rep := 0; rep < 2; rep++ {
			if err := off.Show(frame, back); err != nil {
				t.Fatal(err)
			}
		}
		got := make([]uint32, w*h)
		if err := back.Download(got); err != nil {
			t.Fatal(err)
		}
		for i := range px {
			if got[i] != px[i] {
				t.Fatalf("%dx%d: pixel %d: got %#x want %#x", w, h, i, got[i], px[i])
			}
		}
		if err := off.Show(back, nil); err != nil {
			t.Errorf("show without readback: %v", err)
		}
		small, _ := d.NewTensor("small", engine.Uint32, 1)
		if err := off.Show(small, nil); w*h != 1 && (err == nil || !strings.Contains(err.Error(), "must be")) {
			t.Errorf("a frame of the wrong size: got %v", err)
		}
		small.Free()
		frame.Free()
		back.Free()
		off.Close()
	}
	if _, err := d.NewOffscreen(0, 10); err == nil || !strings.Contains(err.Error(), "offscreen size 0x10 is outside 1..16384") {
		t.Errorf("a 0x10 offscreen image: %v", err)
	}
}

// fakeWindow is a window system that offers no surface, or fails to make one.
type fakeWindow struct{ exts []string }

func (f fakeWindow) InstanceExtensions() []string { return f.exts }
func (f fakeWindow) CreateSurface(unsafe.Pointer) (uint64, error) {
	return 0, errors.New("no surface today")
}
func (f fakeWindow) FramebufferSize() (int, int) { return 800, 600 }

func TestOpenWindowErrorsAreClear(t *testing.T) {
	enginetest.Open(t) // skips (or fails under CI) without a device
	_, _, err := engine.OpenWindow(engine.Options{PipelineCacheDir: "-"}, fakeWindow{})
	if err == nil || !strings.Contains(err.Error(), "--headless") {
		t.Errorf("no surface extensions: got %v", err)
	}
	_, _, err = engine.OpenWindow(engine.Options{PipelineCacheDir: "-"}, fakeWindow{exts: []string{"VK_KHR_surface"}})
	if err == nil || !strings.Contains(err.Error(), "no surface today") {
		t.Errorf("failing surface: got %v", err)
	}
}
