package engine

import (
	"fmt"
	"io"
	"sort"
	"time"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// KernelTime is the accumulated GPU time of one kernel in a profiled
// sequence.
type KernelTime struct {
	Name  string
	Count int
	Total time.Duration
}

// Mean is the average time per dispatch.
func (k KernelTime) Mean() time.Duration {
	if k.Count == 0 {
		return 0
	}
	return k.Total / time.Duration(k.Count)
}

func (s *Sequence) collectTimes() error {
	n := len(s.labels)
	if n == 0 {
		return nil
	}
	ts := make([]uint64, 2*n)
	if err := check(vk.GetQueryPoolResults(s.dev.handle, s.queries, 0, uint32(2*n), uint(8*2*n), unsafe.Pointer(&ts[0]), 8,
		vk.QueryResultFlags(vk.QueryResult64Bit|vk.QueryResultWaitBit)), "vkGetQueryPoolResults"); err != nil {
		return err
	}
	period := float64(s.dev.Info.TimestampPeriod)
	mask := timestampMask(s.dev.Info.TimestampValidBits)
	for i, name := range s.labels {
		d := time.Duration(float64(timestampTicks(ts[2*i], ts[2*i+1], mask)) * period)
		kt := s.stats[name]
		if kt == nil {
			kt = &KernelTime{Name: name}
			s.stats[name] = kt
		}
		kt.Count++
		kt.Total += d
	}
	return nil
}

// timestampMask keeps the bits a queue's timestamps hold
// (VkQueueFamilyProperties.timestampValidBits); the others are undefined.
func timestampMask(validBits uint32) uint64 {
	if validBits == 0 || validBits >= 64 {
		return ^uint64(0)
	}
	return uint64(1)<<validBits - 1
}

// timestampTicks is the number of ticks from begin to end, both masked to
// the valid bits; a counter that wrapped around in between still gives
// the right difference (modulo 2^validBits).
func timestampTicks(begin, end, mask uint64) uint64 {
	return (end&mask - begin&mask) & mask
}

// Profile returns the per-kernel GPU times accumulated over every Run of a
// profiled sequence, longest total first.
func (s *Sequence) Profile() []KernelTime {
	out := make([]KernelTime, 0, len(s.stats))
	for _, k := range s.stats {
		out = append(out, *k)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Total != out[j].Total {
			return out[i].Total > out[j].Total
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// WriteProfile prints a per-kernel table (count, total, mean, share); top
// limits the rows (0: all).
func WriteProfile(w io.Writer, times []KernelTime, top int) {
	var all time.Duration
	for _, k := range times {
		all += k.Total
	}
	fmt.Fprintf(w, "%-36s %8s %12s %12s %7s\n", "kernel", "count", "total", "mean", "share")
	for i, k := range times {
		if top > 0 && i >= top {
			break
		}
		share := 0.0
		if all > 0 {
			share = 100 * float64(k.Total) / float64(all)
		}
		fmt.Fprintf(w, "%-36s %8d %12s %12s %6.1f%%\n", k.Name, k.Count, k.Total.Round(time.Microsecond), k.Mean().Round(100*time.Nanosecond), share)
	}
}
