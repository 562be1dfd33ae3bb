package engine

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// driverFilesEnv returns "NAME=value" for the environment variable that
// tells the Vulkan loader which driver manifests to use ($VK_DRIVER_FILES,
// or the older $VK_ICD_FILENAMES), or "" when neither is set.
func driverFilesEnv() string {
	for _, name := range []string{"VK_DRIVER_FILES", "VK_ICD_FILENAMES"} {
		if v := os.Getenv(name); v != "" {
			return name + "=" + v
		}
	}
	return ""
}

// checkDriverFiles checks the driver manifests named by $VK_DRIVER_FILES
// (or $VK_ICD_FILENAMES): each entry must be a readable JSON manifest with
// an ICD library_path (an absolute one must exist), or a directory holding
// at least one. The loader silently skips a bad entry, which would look
// like a machine without a Vulkan device; this names the bad entry instead.
func checkDriverFiles() error {
	env := driverFilesEnv()
	if env == "" {
		return nil
	}
	value := env[strings.IndexByte(env, '=')+1:]
	for _, entry := range filepath.SplitList(value) {
		if entry == "" {
			continue
		}
		if err := checkDriverEntry(entry); err != nil {
			return fmt.Errorf("%w: %s: %v; point it at a driver manifest (lavapipe: /usr/share/vulkan/icd.d/lvp_icd.x86_64.json, installed by `make deps`) or unset it", ErrDriverFiles, env, err)
		}
	}
	return nil
}

// checkDriverEntry checks one entry of the driver list: a manifest, or a
// directory of manifests.
func checkDriverEntry(entry string) error {
	st, err := os.Stat(entry)
	if err != nil {
		return fmt.Errorf("%s does not exist", entry)
	}
	if !st.IsDir() {
		return checkDriverManifest(entry)
	}
	manifests, _ := filepath.Glob(filepath.Join(entry, "*.json"))
	if len(manifests) == 0 {
		return fmt.Errorf("directory %s holds no driver manifest (*.json)", entry)
	}
	for _, m := range manifests {
		if err := checkDriverManifest(m); err != nil {
			return err
		}
	}
	return nil
}

// driverManifest is the part of a Vulkan driver manifest checked here.
type driverManifest struct {
	ICD *struct {
		LibraryPath string `json:"library_path"`
	} `json:"ICD"`
}

// checkDriverManifest checks that path is a driver manifest whose library
// exists (when its path is absolute; a bare name is left to the loader's
// library search).
func checkDriverManifest(path string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read %s: %v", path, err)
	}
	var m driverManifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return fmt.Errorf("%s is not a JSON driver manifest: %v", path, err)
	}
	if m.ICD == nil || m.ICD.LibraryPath == "" {
		return fmt.Errorf("%s has no ICD.library_path: not a Vulkan driver manifest", path)
	}
	if lib := m.ICD.LibraryPath; filepath.IsAbs(lib) {
		if _, err := os.Stat(lib); err != nil {
			return fmt.Errorf("%s names the driver library %s, which does not exist", path, lib)
		}
	}
	return nil
}
