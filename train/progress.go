package train

import (
	"fmt"
	"io"
	"os"
	"time"
)

// progress draws a one-line progress bar on a terminal (or prints a line
// every few seconds elsewhere, e.g. in CI logs).
type progress struct {
	w        io.Writer
	terminal bool
	last     time.Time
	start    time.Time
	total    int // steps in the whole run
	done0    int // steps done before this process started (resume)
}

func newProgress(w io.Writer, total, done int) *progress {
	term := false
	if f, ok := w.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			term = true
		}
	}
	return &progress{w: w, terminal: term, start: time.Now(), total: total, done0: done}
}

// update shows the state after step (1-based count of steps done).
func (p *progress) update(done int, stage, stages, size, epoch, epochs, batch, batches int, loss, acc, imgPerSec float64) {
	if p.w == nil {
		return
	}
	nowT := time.Now()
	interval := 200 * time.Millisecond
	if !p.terminal {
		interval = 10 * time.Second
	}
	if nowT.Sub(p.last) < interval && done != p.total {
		return
	}
	p.last = nowT
	eta := "?"
	if d := done - p.done0; d > 0 {
		per := nowT.Sub(p.start) / time.Duration(d)
		eta = (per * time.Duration(p.total-done)).Round(time.Second).String()
	}
	const width = 20
	filled := width * done / max(p.total, 1)
	bar := make([]byte, width)
	for i := range bar {
		bar[i] = '.'
		if i < filled {
			bar[i] = '#'
		}
	}
	line := fmt.Sprintf("[%s] stage %d/%d %dpx epoch %d/%d step %d/%d loss %.4f acc %5.1f%% %6.0f img/s ETA %s",
		bar, stage+1, stages, size, epoch+1, epochs, batch, batches, loss, 100*acc, imgPerSec, eta)
	if p.terminal {
		fmt.Fprintf(p.w, "\r%-130s", line)
	} else {
		fmt.Fprintln(p.w, line)
	}
}

// println ends the bar's line and prints msg.
func (p *progress) println(format string, args ...any) {
	if p.w == nil {
		return
	}
	if p.terminal {
		fmt.Fprint(p.w, "\r\033[K")
	}
	fmt.Fprintf(p.w, format+"\n", args...)
}
