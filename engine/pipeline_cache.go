package engine

import (
	"fmt"
	"os"
	"path/filepath"
	"unsafe"

	vk "github.com/vulkan-go/vulkan"
)

// pipelineCache is a VkPipelineCache persisted in the user cache dir, keyed
// by vendor, device and the driver's pipeline-cache UUID, so a second run
// skips the shader compiler's work.
type pipelineCache struct {
	dev    *Device
	handle vk.PipelineCache
	path   string // "" when not persisted
}

func openPipelineCache(d *Device, dir string) (*pipelineCache, error) {
	c := &pipelineCache{dev: d}
	if dir != "-" {
		if dir == "" {
			if base, err := os.UserCacheDir(); err == nil {
				dir = filepath.Join(base, "effv2vk")
			}
		}
		if dir != "" {
			c.path = filepath.Join(dir, fmt.Sprintf("pipelines-%04x-%04x-%x.bin", d.Info.VendorID, d.Info.DeviceID, d.Info.pipeUUID[:]))
		}
	}
	var initial []byte
	if c.path != "" {
		initial, _ = os.ReadFile(c.path) // a missing or unreadable cache only costs compile time
	}
	info := &vk.PipelineCacheCreateInfo{SType: vk.StructureTypePipelineCacheCreateInfo}
	if len(initial) > 0 {
		info.InitialDataSize = uint(len(initial))
		info.PInitialData = cBytes(initial)
		defer cFree(info.PInitialData)
	}
	var h vk.PipelineCache
	if ret := vk.CreatePipelineCache(d.handle, info, nil, &h); ret != vk.Success {
		// Retry without the stored data: it may be stale or corrupt.
		if err := check(vk.CreatePipelineCache(d.handle, &vk.PipelineCacheCreateInfo{SType: vk.StructureTypePipelineCacheCreateInfo}, nil, &h), "vkCreatePipelineCache"); err != nil {
			return nil, err
		}
	}
	c.handle = h
	return c, nil
}

// saveAndDestroy writes the cache atomically (temp file, rename) and
// destroys it. A failure to save is reported but harmless.
func (c *pipelineCache) saveAndDestroy() error {
	defer vk.DestroyPipelineCache(c.dev.handle, c.handle, nil)
	if c.path == "" {
		return nil
	}
	var n uint
	if vk.GetPipelineCacheData(c.dev.handle, c.handle, &n, nil) != vk.Success || n == 0 {
		return nil
	}
	buf := make([]byte, n)
	if err := check(vk.GetPipelineCacheData(c.dev.handle, c.handle, &n, unsafe.Pointer(&buf[0])), "vkGetPipelineCacheData"); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(c.path), 0o755); err != nil {
		return fmt.Errorf("engine: saving pipeline cache: %v", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(c.path), ".pipelines-*")
	if err != nil {
		return fmt.Errorf("engine: saving pipeline cache: %v", err)
	}
	_, werr := tmp.Write(buf[:n])
	cerr := tmp.Close()
	if werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("engine: saving pipeline cache %s: %v %v", c.path, werr, cerr)
	}
	return os.Rename(tmp.Name(), c.path)
}
