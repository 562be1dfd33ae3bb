package engine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheckDriverFiles feeds the driver-manifest check each kind of bad
// entry and a good one.
func TestCheckDriverFiles(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	lib := write("libfake.so", "")
	good := write("good.json", `{"file_format_version": "1.0.0", "ICD": {"library_path": "`+lib+`"}}`)
	bare := write("bare.json", `{"ICD": {"library_path": "libvulkan_fake.so"}}`)
	notJSON := write("broken.json", `{"ICD": `)
	noICD := write("layer.json", `{"layer": {"name": "x"}}`)
	noLib := write("nolib.json", `{"ICD": {"library_path": "/no/such/libvulkan_x.so"}}`)
	empty := filepath.Join(dir, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, value, want string
	}{
		{"missing file", filepath.Join(dir, "absent.json"), "absent.json does not exist"},
		{"not JSON", notJSON, "is not a JSON driver manifest"},
		{"no ICD section", noICD, "has no ICD.library_path"},
		{"missing library", noLib, "libvulkan_x.so, which does not exist"},
		{"empty directory", empty, "holds no driver manifest"},
		{"one bad entry of two", good + string(os.PathListSeparator) + noLib, "which does not exist"},
		{"good", good, ""},
		{"library by bare name", bare, ""},
		{"directory", filepath.Join(dir), "is not a JSON driver manifest"}, // holds broken.json
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Setenv("VK_ICD_FILENAMES", "")
			t.Setenv("VK_DRIVER_FILES", c.value)
			err := checkDriverFiles()
			if c.want == "" {
				if err != nil {
					t.Fatalf("a good manifest was refused: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.want) || !errors.Is(err, ErrDriverFiles) {
				t.Fatalf("got %v, want ErrDriverFiles containing %q", err, c.want)
			}
			if !strings.Contains(err.Error(), "VK_DRIVER_FILES=") {
				t.Errorf("the error does not name the variable: %v", err)
			}
		})
	}
	t.Run("older variable", func(t *testing.T) {
		t.Setenv("VK_DRIVER_FILES", "")
		t.Setenv("VK_ICD_FILENAMES", noLib)
		if err := checkDriverFiles(); err == nil || !strings.Contains(err.Error(), "VK_ICD_FILENAMES=") {
			t.Fatalf("got %v, want an error naming VK_ICD_FILENAMES", err)
		}
	})
	t.Run("unset", func(t *testing.T) {
		t.Setenv("VK_DRIVER_FILES", "")
		t.Setenv("VK_ICD_FILENAMES", "")
		if err := checkDriverFiles(); err != nil {
			t.Fatalf("no variable set: %v", err)
		}
	})
}
