package data

import (
	"strings"
	"testing"
)

// cifarRecord returns one record: label bytes then a planar image whose
// red plane is all r, green g and blue b, except pixel (y=1, x=2) = (1, 2, 3).
func cifarRecord(labels []uint8, r, g, b uint8) []uint8 {
	rec := append([]uint8(nil), labels...)
	for plane, v := range []uint8{r, g, b} {
		for p := 0; p < 1024; p++ {
			if p == 1*32+2 {
				rec = append(rec, uint8(plane+1))
			} else {
				rec = append(rec, v)
			}
		}
	}
	return rec
}

func TestOpenCIFAR10ParsesBatchesToHWC(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "data_batch_1.bin", append(cifarRecord([]uint8{3}, 10, 20, 30), cifarRecord([]uint8{9}, 40, 50, 60)...))
	writeFile(t, dir, "data_batch_2.bin", cifarRecord([]uint8{0}, 70, 80, 90))
	ds, err := OpenCIFAR10(dir, "train")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 3 || ds.NumClasses() != 10 || ds.Channels() != 3 {
		t.Fatalf("len %d classes %d channels %d", ds.Len(), ds.NumClasses(), ds.Channels())
	}
	if got := []int{ds.Label(0), ds.Label(1), ds.Label(2)}; got[0] != 3 || got[1] != 9 || got[2] != 0 {
		t.Fatalf("labels %v, want [3 9 0]", got)
	}
	pix, h, w, err := ds.Image(1)
	if err != nil || h != 32 || w != 32 {
		t.Fatalf("image 1: %dx%d %v", h, w, err)
	}
	if p := pix[:3]; p[0] != 40 || p[1] != 50 || p[2] != 60 {
		t.Fatalf("pixel (0,0) = %v, want [40 50 60]", p)
	}
	if o := (1*32 + 2) * 3; pix[o] != 1 || pix[o+1] != 2 || pix[o+2] != 3 {
		t.Fatalf("pixel (1,2) = %v, want [1 2 3]", pix[o:o+3])
	}
	if ds.ClassNames()[3] != "cat" {
		t.Fatalf("class 3 = %q, want cat", ds.ClassNames()[3])
	}
}

func TestOpenCIFAR100UsesFineLabelAndNameFile(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "test.bin", cifarRecord([]uint8{4, 72}, 1, 2, 3))
	names := make([]string, 100)
	for i := range names {
		names[i] = "class" + string(rune('A'+i%26)) + string(rune('a'+i/26))
	}
	writeFile(t, dir, "fine_label_names.txt", []byte(strings.Join(names, "\n")+"\n"))
	ds, err := OpenCIFAR100(dir, "test")
	if err != nil {
		t.Fatal(err)
	}
	if ds.Len() != 1 || ds.Label(0) != 72 || ds.NumClasses() != 100 {
		t.Fatalf("len %d label %d classes %d, want 1, 72 (fine), 100", ds.Len(), ds.Label(0), ds.NumClasses())
	}
	if ds.ClassNames()[72] != names[72] {
		t.Fatalf("class 72 = %q, want %q from fine_label_names.txt", ds.ClassNames()[72], names[72])
	}
	if len(CIFAR100Classes) != 100 || CIFAR100Classes[72] != "seal" {
		t.Fatalf("built-in CIFAR-100 names: %d, [72] = %q", len(CIFAR100Classes), CIFAR100Classes[72])
	}
}

func TestOpenCIFARRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "test_batch.bin", cifarRecord([]uint8{1}, 0, 0, 0)[:3000])
	if _, err := OpenCIFAR10(dir, "test"); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "3073-byte records") {
		t.Fatalf("truncated: error %v", err)
	}
	path = writeFile(t, dir, "test_batch.bin", cifarRecord([]uint8{10}, 0, 0, 0))
	if _, err := OpenCIFAR10(dir, "test"); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "label 10") {
		t.Fatalf("bad label: error %v", err)
	}
	if _, err := OpenCIFAR10(t.TempDir(), "train"); err == nil || !strings.Contains(err.Error(), "data_batch_") {
		t.Fatalf("no batches: error %v", err)
	}
	if _, err := OpenCIFAR100(dir, "val"); err == nil || !strings.Contains(err.Error(), `CIFAR-100 split "val": want "train" or "test"`) {
		t.Fatalf("bad split: %v", err)
	}
}
