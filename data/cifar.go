package data

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// CIFAR binary records: label byte(s) then a 32x32 image stored planar
// (1024 red, 1024 green, 1024 blue bytes, each row-major).
const (
	cifarSide      = 32
	cifarImageSize = cifarSide * cifarSide * 3
)

// CIFAR10Classes are the CIFAR-10 class names, indexed by label; used when
// the directory has no batches.meta.txt.
var CIFAR10Classes = []string{
	"airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
}

// CIFAR100Classes are the CIFAR-100 fine class names, indexed by label; used
// when the directory has no fine_label_names.txt.
var CIFAR100Classes = strings.Fields(`apple aquarium_fish baby bear beaver bed bee beetle bicycle bottle
bowl boy bridge bus butterfly camel can castle caterpillar cattle chair chimpanzee clock cloud cockroach
couch crab crocodile cup dinosaur dolphin elephant flatfish forest fox girl hamster house kangaroo keyboard
lamp lawn_mower leopard lion lizard lobster man maple_tree motorcycle mountain mouse mushroom oak_tree
orange orchid otter palm_tree pear pickup_truck pine_tree plain plate poppy porcupine possum rabbit raccoon
ray road rocket rose sea seal shark shrew skunk skyscraper snail snake spider squirrel streetcar sunflower
sweet_pepper table tank telephone television tiger tractor train trout tulip turtle wardrobe whale
willow_tree wolf woman worm`)

// OpenCIFAR10 loads the CIFAR-10 binary version from dir (the
// cifar-10-batches-bin folder): data_batch_1.bin .. data_batch_5.bin for
// "train" (the batches present, at least one), test_batch.bin for "test".
// Images are 32x32 RGB.
func OpenCIFAR10(dir, split string) (Dataset, error) {
	var files []string
	switch split {
	case "train":
		for k := 1; k <= 5; k++ {
			p := filepath.Join(dir, fmt.Sprintf("data_batch_%d.bin", k))
			if _, err := os.Stat(p); err == nil {
				files = append(files, p)
			}
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("data: CIFAR-10: no data_batch_*.bin in %s (pass the cifar-10-batches-bin folder)", dir)
		}
	case "test":
		files = []string{filepath.Join(dir, "test_batch.bin")}
	default:
		return nil, fmt.Errorf("data: CIFAR-10 split %q: want \"train\" or \"test\"", split)
	}
	classes := readClassNames(filepath.Join(dir, "batches.meta.txt"), CIFAR10Classes)
	return readCIFAR("cifar-10 "+split, files, 1, 0, classes)
}

// OpenCIFAR100 loads the CIFAR-100 binary version from dir (the
// cifar-100-binary folder): train.bin or test.bin. Each record carries a
// coarse and a fine label byte; the fine label (100 classes) is used.
func OpenCIFAR100(dir, split string) (Dataset, error) {
	if split != "train" && split != "test" {
		return nil, fmt.Errorf("data: CIFAR-100 split %q: want \"train\" or \"test\"", split)
	}
	files := []string{filepath.Join(dir, split+".bin")}
	classes := readClassNames(filepath.Join(dir, "fine_label_names.txt"), CIFAR100Classes)
	return readCIFAR("cifar-100 "+split, files, 2, 1, classes)
}

// readClassNames reads one class name per non-empty line of path; when the
// file is missing or has a different number of names, it returns fallback.
func readClassNames(path string, fallback []string) []string {
	f, err := os.Open(path)
	if err != nil {
		return fallback
	}
	defer f.Close()
	var names []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			names = append(names, s)
		}
	}
	if sc.Err() != nil || len(names) != len(fallback) {
		return fallback
	}
	return names
}

// readCIFAR parses CIFAR binary files whose records have labelBytes label
// bytes (the one at labelAt is used) and converts the images to HWC.
func readCIFAR(what string, files []string, labelBytes, labelAt int, classes []string) (Dataset, error) {
	record := labelBytes + cifarImageSize
	m := &memoryDataset{what: what, h: cifarSide, w: cifarSide, c: 3, classes: classes}
	for _, path := range files {
		raw, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("data: %w", err)
		}
		if len(raw) == 0 || len(raw)%record != 0 {
			return nil, fmt.Errorf("data: %s: %d bytes is not a whole number of %d-byte records (truncated, or not a %s binary file?)",
				path, len(raw), record, strings.Fields(what)[0])
		}
		n := len(raw) / record
		for r := 0; r < n; r++ {
			rec := raw[r*record : (r+1)*record]
			label := rec[labelAt]
			if int(label) >= len(classes) {
				return nil, fmt.Errorf("data: %s: record %d has label %d, want < %d (wrong CIFAR variant?)", path, r, label, len(classes))
			}
			m.labels = append(m.labels, label)
			m.pixels = appendPlanarAsHWC(m.pixels, rec[labelBytes:], cifarSide*cifarSide)
		}
		m.n += n
	}
	return m, nil
}

// appendPlanarAsHWC appends a 3-plane image (plane = pixels bytes each) to
// dst with the channels interleaved.
func appendPlanarAsHWC(dst, planar []uint8, pixels int) []uint8 {
	r, g, b := planar[:pixels], planar[pixels:2*pixels], planar[2*pixels:3*pixels]
	for p := 0; p < pixels; p++ {
		dst = append(dst, r[p], g[p], b[p])
	}
	return dst
}
