package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
)

// targetEnv is the Vulkan version every kernel is compiled and validated for.
const targetEnv = "vulkan1.1"

// kernelDecl is one `//! kernel NAME DEFINES...` line of a .comp file.
type kernelDecl struct {
	Name    string
	File    string
	Defines []string
}

// kernelOut is a compiled and reflected kernel.
type kernelOut struct {
	kernelDecl
	*module
}

func main() {
	dir := flag.String("dir", ".", "the shaders directory")
	flag.Parse()
	if err := run(*dir); err != nil {
		fmt.Fprintln(os.Stderr, "spirv:", err)
		os.Exit(1)
	}
}

func run(dir string) error {
	for _, tool := range []string{"glslc", "spirv-val"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found: install it with `make deps` (Debian packages glslc and spirv-tools)", tool)
		}
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.comp"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	var decls []kernelDecl
	seen := map[string]string{}
	for _, f := range files {
		ds, err := parseDecls(f)
		if err != nil {
			return err
		}
		for _, d := range ds {
			if prev, ok := seen[d.Name]; ok {
				return fmt.Errorf("kernel %q declared in both %s and %s", d.Name, prev, d.File)
			}
			seen[d.Name] = d.File
		}
		decls = append(decls, ds...)
	}
	spvDir := filepath.Join(dir, "spv")
	if err := os.MkdirAll(spvDir, 0o755); err != nil {
		return err
	}
	var outs []kernelOut
	for _, d := range decls {
		optimized, err := compile(dir, d, true)
		if err != nil {
			return err
		}
		plain, err := compile(dir, d, false)
		if err != nil {
			return err
		}
		m, err := reflectModule(plain)
		if err != nil {
			return fmt.Errorf("%s (kernel %s): %w", d.File, d.Name, err)
		}
		if err := writeIfChanged(filepath.Join(spvDir, d.Name+".spv"), optimized); err != nil {
			return err
		}
		outs = append(outs, kernelOut{d, m})
	}
	if err := removeStale(spvDir, seen); err != nil {
		return err
	}
	src, err := renderIndex(outs)
	if err != nil {
		return err
	}
	return writeIfChanged(filepath.Join(dir, "index_gen.go"), src)
}

// parseDecls reads the kernel declarations of one .comp file.
func parseDecls(path string) ([]kernelDecl, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	base := filepath.Base(path)
	var out []kernelDecl
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(t, "//! kernel") {
			continue
		}
		fields := strings.Fields(strings.TrimPrefix(t, "//! kernel"))
		if len(fields) == 0 {
			return nil, fmt.Errorf("%s:%d: `//! kernel` needs a name", base, line)
		}
		for _, c := range fields[0] {
			if !(c == '_' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
				return nil, fmt.Errorf("%s:%d: kernel name %q must be lower_snake_case", base, line, fields[0])
			}
		}
		out = append(out, kernelDecl{Name: fields[0], File: base, Defines: fields[1:]})
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		out = append(out, kernelDecl{Name: strings.TrimSuffix(base, ".comp"), File: base})
	}
	return out, nil
}

// compile runs glslc (optimized or not) and spirv-val on one kernel.
func compile(dir string, d kernelDecl, optimize bool) ([]byte, error) {
	tmp, err := os.CreateTemp("", "effv2vk-*.spv")
	if err != nil {
		return nil, err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	args := []string{"--target-env=" + targetEnv, "-fshader-stage=compute", "-I", filepath.Join(dir, "include"), "-Werror"}
	if optimize {
		args = append(args, "-O")
	} else {
		args = append(args, "-O0")
	}
	for _, def := range d.Defines {
		args = append(args, "-D"+def)
	}
	args = append(args, "-o", tmp.Name(), filepath.Join(dir, d.File))
	var stderr bytes.Buffer
	cmd := exec.Command("glslc", args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("glslc %s (kernel %s): %v\n%s", d.File, d.Name, err, stderr.String())
	}
	stderr.Reset()
	val := exec.Command("spirv-val", "--target-env", targetEnv, tmp.Name())
	val.Stderr = &stderr
	val.Stdout = &stderr
	if err := val.Run(); err != nil {
		return nil, fmt.Errorf("spirv-val %s (kernel %s): %v\n%s", d.File, d.Name, err, stderr.String())
	}
	return os.ReadFile(tmp.Name())
}

func writeIfChanged(path string, data []byte) error {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return nil
	}
	return os.WriteFile(path, data, 0o644)
}

// removeStale deletes .spv files of kernels that no longer exist.
func removeStale(spvDir string, kernels map[string]string) error {
	old, err := filepath.Glob(filepath.Join(spvDir, "*.spv"))
	if err != nil {
		return err
	}
	for _, f := range old {
		if _, ok := kernels[strings.TrimSuffix(filepath.Base(f), ".spv")]; !ok {
			if err := os.Remove(f); err != nil {
				return err
			}
		}
	}
	return nil
}
