package engine

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// tuneCacheFormat is the version of the tune cache file layout and of the
// rule that made its choices (2: rounds until a minimum time, confirmed by
// a rematch; a file of format 1 holds choices of the older rule, which
// could keep a variant slower than the default, and is tuned again).
const tuneCacheFormat = 2

// tuneFile is the JSON layout of one device's tune cache,
// <user cache dir>/effv2vk/tune-<device UUID>.json. A file whose format,
// device UUID or driver version differs from the device's is ignored as a
// whole; an entry whose SPIR-V hash differs, or whose variant is no longer
// eligible, is ignored alone. Writers take turns through an flock on
// tune-<device UUID>.json.lock beside it (tune_cache_lock.go).
type tuneFile struct {
	Format        int                  `json:"format"`
	DeviceUUID    string               `json:"device_uuid"`
	DeviceName    string               `json:"device_name"`
	DriverVersion uint32               `json:"driver_version"`
	Entries       map[string]tuneEntry `json:"entries"` // by op and shape
}

// tuneEntry is one cached choice.
type tuneEntry struct {
	Hash    string           `json:"spirv_hash"`
	Variant string           `json:"variant"`
	Default string           `json:"default"`
	TimesNS map[string]int64 `json:"times_ns"`
	// RematchNS are the rematch's times (absent when there was none).
	RematchNS map[string]int64 `json:"rematch_ns,omitempty"`
}

func (e tuneEntry) times() map[string]time.Duration { return durations(e.TimesNS) }

func (e tuneEntry) rematch() map[string]time.Duration { return durations(e.RematchNS) }

// durations converts nanoseconds by name to durations (nil stays nil).
func durations(ns map[string]int64) map[string]time.Duration {
	if ns == nil {
		return nil
	}
	out := make(map[string]time.Duration, len(ns))
	for k, v := range ns {
		out[k] = time.Duration(v)
	}
	return out
}

// nanoseconds converts durations by name to nanoseconds (nil stays nil).
func nanoseconds(ts map[string]time.Duration) map[string]int64 {
	if ts == nil {
		return nil
	}
	out := make(map[string]int64, len(ts))
	for k, v := range ts {
		out[k] = int64(v)
	}
	return out
}

// tuneCache is a device's tune file in memory; path is "" when the user
// has no cache directory (choices then last as long as the process).
// Several processes may share the file (the ranks of an mpirun job, a
// training run beside `effv2vk tune`): each store merges with what is on
// disk under a lock (tune_cache_lock.go), so no process drops another's
// choices.
type tuneCache struct {
	path        string
	file        tuneFile
	warnedStale bool
	// warnedDisk is set once the file on disk was reported untrusted
	// (corrupt, stale, foreign): a store replacing it says nothing more.
	warnedDisk bool
}

// deviceUUID is the device's UUID in hex, or (when the driver reports
// none) its vendor, device id and name.
func deviceUUID(info DeviceInfo) string {
	for _, b := range info.extra.DeviceUUID {
		if b != 0 {
			return hex.EncodeToString(info.extra.DeviceUUID[:])
		}
	}
	return fmt.Sprintf("%04x-%04x-%x", info.VendorID, info.DeviceID, []byte(info.Name))
}

// TuneDeviceID is the device identity d's tuning choices are kept under:
// its UUID in hex (or, when the driver reports none, its vendor, device id
// and name). Two processes with the same ID on one machine drive the same
// device.
func (d *Device) TuneDeviceID() string { return deviceUUID(d.Info) }

// TuneCachePath is where d's tuning choices are stored ("" when the user
// has no cache directory).
func (d *Device) TuneCachePath() string {
	base, err := os.UserCacheDir()
	if err != nil || base == "" {
		return ""
	}
	return filepath.Join(base, "effv2vk", "tune-"+deviceUUID(d.Info)+".json")
}

// openTuneCache reads d's tune file; a missing one is empty, and a corrupt,
// stale or foreign one is ignored with a warning (and replaced at the
// next store).
func openTuneCache(d *Device) *tuneCache {
	want := tuneFile{Format: tuneCacheFormat, DeviceUUID: deviceUUID(d.Info), DeviceName: d.Info.Name,
		DriverVersion: d.Info.DriverVersion, Entries: map[string]tuneEntry{}}
	return openTuneCacheAt(d.TuneCachePath(), want)
}

// openTuneCacheAt reads the tune file at path for the device want
// describes (want.Entries empty); path "" keeps choices in memory only.
func openTuneCacheAt(path string, want tuneFile) *tuneCache {
	c := &tuneCache{path: path, file: want}
	if c.path == "" {
		return c
	}
	entries, problem := c.readDisk()
	if problem != "" {
		c.warnedDisk = true
		tuneWarn("%s", problem)
		return c
	}
	if entries != nil {
		c.file.Entries = entries
	}
	return c
}

// readDisk returns the entries of the file at c.path when it is this
// device's and driver's, in this format; nil entries when there is no
// file. Otherwise problem says why the file is not trusted.
func (c *tuneCache) readDisk() (entries map[string]tuneEntry, problem string) {
	want := c.file
	data, err := os.ReadFile(c.path)
	if os.IsNotExist(err) {
		return nil, ""
	}
	if err != nil {
		return nil, fmt.Sprintf("cannot read %s, tuning again: %v", c.path, err)
	}
	var got tuneFile
	if err := json.Unmarshal(data, &got); err != nil {
		return nil, fmt.Sprintf("%s is corrupt (%v), ignoring it and tuning again", c.path, err)
	}
	switch {
	case got.Format != tuneCacheFormat:
		return nil, fmt.Sprintf("%s has format %d, want %d: ignoring it and tuning again", c.path, got.Format, tuneCacheFormat)
	case got.DeviceUUID != want.DeviceUUID:
		return nil, fmt.Sprintf("%s belongs to device %s (%s), not %s (%s): ignoring it and tuning again", c.path, got.DeviceUUID, got.DeviceName, want.DeviceUUID, want.DeviceName)
	case got.DriverVersion != want.DriverVersion:
		return nil, fmt.Sprintf("%s was tuned with driver version %s, this is %s: ignoring it and tuning again", c.path, versionString(got.DriverVersion), versionString(want.DriverVersion))
	}
	return got.Entries, ""
}

// lookup returns the cached entry for key when its hash matches and its
// variant is among vs; a stale entry is ignored, with one warning per
// cache.
func (c *tuneCache) lookup(key, hash string, vs []TuneVariant) (tuneEntry, bool) {
	e, ok := c.file.Entries[key]
	if !ok {
		return e, false
	}
	if e.Hash != hash || indexOfVariant(vs, e.Variant) < 0 {
		if !c.warnedStale {
			c.warnedStale = true
			tuneWarn("%s holds choices for other kernels (first: %s); tuning those again", c.path, key)
		}
		return e, false
	}
	return e, true
}

// store adds a measured choice and writes the file: under the file's
// lock it reads the file again, merges this cache's choices with the ones
// other processes stored meanwhile (theirs win for the other keys, this
// choice for its own), and replaces the file atomically (a temporary file
// renamed over it). A file on disk that is not trusted is replaced (with a
// warning unless it was reported already); a failure to write is a
// warning.
func (c *tuneCache) store(key, hash string, res TuneResult) {
	e := tuneEntry{Hash: hash, Variant: res.Variant, Default: res.Default, TimesNS: nanoseconds(res.Times), RematchNS: nanoseconds(res.Rematch)}
	c.file.Entries[key] = e
	if c.path == "" {
		return
	}
	err := withFileLock(c.path+".lock", func() error {
		disk, problem := c.readDisk()
		if problem != "" && !c.warnedDisk {
			c.warnedDisk = true
			tuneWarn("%s", strings.Replace(problem, "tuning again", "replacing it", 1))
		}
		for k, v := range disk {
			if k != key {
				c.file.Entries[k] = v
			}
		}
		return c.write()
	})
	if err != nil {
		tuneWarn("cannot write %s (the choice holds for this run only): %v", c.path, err)
	}
}

func (c *tuneCache) write() error {
	data, err := json.MarshalIndent(c.file, "", " ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(c.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tune-*.tmp")
	if err != nil {
		return err
	}
	_, werr := tmp.Write(append(data, '\n'))
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		if werr != nil {
			return werr
		}
		return cerr
	}
	if err := os.Rename(tmp.Name(), c.path); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	return nil
}
