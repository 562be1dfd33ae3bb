package data

/*
#cgo LDFLAGS: -lturbojpeg
#include <stdlib.h>
#include <turbojpeg.h>
*/
import "C"

import (
	"errors"
	"fmt"
	"sync"
	"unsafe"
)

// jpegHandles keeps idle TurboJPEG decompressor handles: a handle serves one
// goroutine at a time, and creating one allocates the library's state, so
// decodes reuse them. The list holds at most as many handles as decodes ever
// ran at once (a sync.Pool would drop them without tjDestroy).
var jpegHandles struct {
	sync.Mutex
	idle []C.tjhandle
}

// getJPEGHandle returns an idle handle, or a new one (nil if the library
// cannot make one).
func getJPEGHandle() C.tjhandle {
	jpegHandles.Lock()
	defer jpegHandles.Unlock()
	if n := len(jpegHandles.idle); n > 0 {
		h := jpegHandles.idle[n-1]
		jpegHandles.idle = jpegHandles.idle[:n-1]
		return h
	}
	return C.tjInitDecompress()
}

// putJPEGHandle hands a handle back for reuse.
func putJPEGHandle(h C.tjhandle) {
	jpegHandles.Lock()
	defer jpegHandles.Unlock()
	jpegHandles.idle = append(jpegHandles.idle, h)
}

// errJPEGWarning marks a JPEG that libjpeg-turbo decoded with a warning
// (truncated data, a bad marker): the pixels may be damaged, so the caller
// falls back to the standard library's stricter decoder.
var errJPEGWarning = errors.New("libjpeg-turbo warning")

// isJPEG reports whether raw starts with a JPEG start-of-image marker.
func isJPEG(raw []byte) bool {
	return len(raw) >= 3 && raw[0] == 0xFF && raw[1] == 0xD8 && raw[2] == 0xFF
}

// jpegScale is a DCT scaling factor num/denom (1/1, 1/2, 1/4 or 1/8 here).
type jpegScale struct{ num, denom int }

// scaled returns dim scaled by s, rounded up, as libjpeg-turbo does.
func (s jpegScale) scaled(dim int) int { return (dim*s.num + s.denom - 1) / s.denom }

// dctScales are the reduced scales decodeJPEGTurbo may choose, smallest
// first. libjpeg-turbo scales these inside the inverse DCT (it computes
// fewer output pixels per 8x8 block), so a 1/4-scale decode costs a
// fraction of a full one.
var dctScales = []jpegScale{{1, 8}, {1, 4}, {1, 2}}

// chooseJPEGScale returns the smallest DCT scale at which an h x w image
// keeps its shorter side at least minSide pixels; 1/1 when minSide <= 0 or
// no reduction keeps it.
func chooseJPEGScale(h, w, minSide int) jpegScale {
	if minSide > 0 {
		for _, s := range dctScales {
			if min(s.scaled(h), s.scaled(w)) >= minSide {
				return s
			}
		}
	}
	return jpegScale{1, 1}
}

// decodeJPEGTurbo decodes a JPEG to packed RGB with libjpeg-turbo, at the
// smallest DCT scale whose shorter side is still at least minSide (0: full
// size). Chroma is upsampled by replication (TJFLAG_FASTUPSAMPLE), as the
// standard library does, and the inverse DCT is the accurate integer one,
// so full-size pixels stay within a few levels of image/jpeg's.
func decodeJPEGTurbo(raw []byte, minSide int) (pix []uint8, h, w int, err error) {
	if len(raw) == 0 {
		return nil, 0, 0, fmt.Errorf("empty file")
	}
	handle := getJPEGHandle()
	if handle == nil {
		return nil, 0, 0, fmt.Errorf("libjpeg-turbo: cannot create a decompressor")
	}
	defer func() {
		if err != nil {
			// A failed decode can leave the handle's state half-reset
			// (seen: the next decode ignores its scaling factor), so it is
			// destroyed rather than reused.
			C.tjDestroy(handle)
			return
		}
		putJPEGHandle(handle)
	}()
	src := (*C.uchar)(unsafe.Pointer(&raw[0]))
	var cw, ch, subsamp, colorspace C.int
	if C.tjDecompressHeader3(handle, src, C.ulong(len(raw)), &cw, &ch, &subsamp, &colorspace) != 0 {
		return nil, 0, 0, turboError(handle)
	}
	fullH, fullW := int(ch), int(cw)
	if fullH <= 0 || fullW <= 0 {
		return nil, 0, 0, fmt.Errorf("empty image %dx%d", fullW, fullH)
	}
	s := chooseJPEGScale(fullH, fullW, minSide)
	h, w = s.scaled(fullH), s.scaled(fullW)
	pix = make([]uint8, h*w*3)
	flags := C.int(C.TJFLAG_FASTUPSAMPLE | C.TJFLAG_NOREALLOC)
	if C.tjDecompress2(handle, src, C.ulong(len(raw)), (*C.uchar)(unsafe.Pointer(&pix[0])),
		C.int(w), C.int(w*3), C.int(h), C.TJPF_RGB, flags) != 0 {
		return nil, 0, 0, turboError(handle)
	}
	return pix, h, w, nil
}

// turboError returns the handle's last error; a warning wraps
// errJPEGWarning.
func turboError(handle C.tjhandle) error {
	msg := C.GoString(C.tjGetErrorStr2(handle))
	if C.tjGetErrorCode(handle) == C.TJERR_WARNING {
		return fmt.Errorf("%w: %s", errJPEGWarning, msg)
	}
	return fmt.Errorf("libjpeg-turbo: %s", msg)
}
