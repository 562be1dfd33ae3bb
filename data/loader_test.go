package data

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"image/color"
	"io"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// epochDigest runs a whole epoch and returns one digest per batch covering
// images, shape, labels, targets and indices.
func epochDigest(t *testing.T, ds Dataset, opts Options) [][32]byte {
	t.Helper()
	l, err := NewLoader(ds, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var out [][32]byte
	for {
		b, err := l.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.Index != len(out) {
			t.Fatalf("batch %d came with Index %d", len(out), b.Index)
		}
		h := sha256.New()
		h.Write(b.Images)
		binary.Write(h, binary.LittleEndian, []int64{int64(b.N), int64(b.H), int64(b.W), int64(b.C)})
		binary.Write(h, binary.LittleEndian, b.Labels)
		binary.Write(h, binary.LittleEndian, b.Targets)
		for _, i := range b.Indices {
			binary.Write(h, binary.LittleEndian, int64(i))
		}
		var d [32]byte
		copy(d[:], h.Sum(nil))
		out = append(out, d)
		l.Release(b)
	}
	if len(out) != l.Len() {
		t.Fatalf("epoch gave %d batches, Len says %d", len(out), l.Len())
	}
	return out
}

// fullAugment turns on every augmentation.
func fullAugment() Augment {
	return Augment{
		RandomResizedCrop: true,
		HorizontalFlip:    true,
		RandAugmentN:      2,
		RandAugmentM:      9,
		Mix:               MixParams{MixupAlpha: 0.2, CutMixAlpha: 1, LabelSmoothing: 0.1},
	}
}

func equalDigests(a, b [][32]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLoaderIsDeterministicAcrossWorkerCounts(t *testing.T) {
	ds := openSubset(t, "test")
	opts := Options{BatchSize: 48, Shuffle: true, Seed: 42, Epoch: 3, Size: 24, Augment: fullAugment()}
	opts.Workers, opts.Prefetch = 1, 1
	one := epochDigest(t, ds, opts)
	opts.Workers, opts.Prefetch = 4, 3
	four := epochDigest(t, ds, opts)
	if !equalDigests(one, four) {
		t.Fatal("1 and 4 workers gave different batches")
	}
	opts.Seed = 43
	if other := epochDigest(t, ds, opts); equalDigests(one, other) || other[0] == one[0] {
		t.Fatal("seeds 42 and 43 gave the same batches")
	}
	opts.Seed, opts.Epoch = 42, 4
	if other := epochDigest(t, ds, opts); other[0] == one[0] {
		t.Fatal("epochs 3 and 4 gave the same first batch")
	}
}

func TestLoaderWithoutShuffleKeepsDatasetOrder(t *testing.T) {
	ds := openSubset(t, "test")
	l, err := NewLoader(ds, Options{BatchSize: 64, Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.Len() != 8 { // 500 = 7*64 + 52
		t.Fatalf("Len %d, want 8", l.Len())
	}
	seen := 0
	for {
		b, err := l.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.H != 28 || b.W != 28 || b.C != 1 || b.Targets != nil {
			t.Fatalf("batch %d: %dx%dx%d targets %v", b.Index, b.H, b.W, b.C, b.Targets != nil)
		}
		for k := 0; k < b.N; k++ {
			pix, _, _, _ := ds.Image(seen)
			if b.Indices[k] != seen || int(b.Labels[k]) != ds.Label(seen) || string(b.Images[k*784:(k+1)*784]) != string(pix) {
				t.Fatalf("batch %d sample %d is not dataset sample %d unchanged", b.Index, k, seen)
			}
			seen++
		}
		l.Release(b)
	}
	if seen != 500 {
		t.Fatalf("epoch covered %d samples, want 500", seen)
	}
	if _, err := l.Next(); err != io.EOF {
		t.Fatalf("Next after the epoch: %v, want io.EOF", err)
	}
}

func TestLoaderShuffleIsAPermutationAndDropLast(t *testing.T) {
	ds := openSubset(t, "test")
	l, err := NewLoader(ds, Options{BatchSize: 64, Shuffle: true, Seed: 5, DropLast: true, Size: 16, Augment: fullAugment()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	seen := map[int]bool{}
	inOrder := true
	for {
		b, err := l.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if b.N != 64 || b.H != 16 || b.W != 16 || len(b.Images) != 64*16*16 || len(b.Targets) != 64*10 {
			t.Fatalf("batch %d: N %d %dx%d, %d bytes, %d targets", b.Index, b.N, b.H, b.W, len(b.Images), len(b.Targets))
		}
		for k, idx := range b.Indices {
			if seen[idx] {
				t.Fatalf("sample %d twice in one epoch", idx)
			}
			seen[idx] = true
			inOrder = inOrder && idx == b.Index*64+k
			sum := 0.0
			for _, v := range b.Targets[k*10 : (k+1)*10] {
				sum += float64(v)
			}
			if err := enginetest.Within(sum, 1, 1e-5); err != nil {
				t.Fatalf("batch %d row %d targets sum: %v", b.Index, k, err)
			}
		}
	}
	if len(seen) != 7*64 || inOrder {
		t.Fatalf("saw %d samples (want 448), in dataset order: %v", len(seen), inOrder)
	}
}

func TestLoaderCloseStopsWorkersWithoutLeaks(t *testing.T) {
	ds := openSubset(t, "train")
	before := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		l, err := NewLoader(ds, Options{BatchSize: 16, Workers: 4, Prefetch: 2, Shuffle: true, Augment: fullAugment()})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := l.Next(); err != nil { // workers now blocked on the full queue
			t.Fatal(err)
		}
		l.Close()
		l.Close()
		if _, err := l.Next(); !errors.Is(err, ErrLoaderClosed) {
			t.Fatalf("Next after Close: %v, want ErrLoaderClosed", err)
		}
	}
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before {
		t.Fatalf("%d goroutines after Close, %d before", n, before)
	}
}

func TestLoaderRejectsBadOptions(t *testing.T) {
	ds := openSubset(t, "test")
	for _, c := range []struct {
		opts Options
		want string
	}{
		{Options{}, "BatchSize"},
		{Options{BatchSize: 1000, DropLast: true}, "no full batch"},
		{Options{BatchSize: 8, Size: -1}, "Size"},
		{Options{BatchSize: 8, Workers: -1}, "Workers"},
		{Options{BatchSize: 8, Augment: Augment{RandAugmentN: 2, RandAugmentM: 31}}, "RandAugment"},
		{Options{BatchSize: 8, Augment: Augment{Crop: CropParams{ScaleMin: 0.5, ScaleMax: 0.2}}}, "crop scale"},
		{Options{BatchSize: 8, Augment: Augment{Mix: MixParams{MixupAlpha: -0.1}}}, "mixup alpha"},
	} {
		if _, err := NewLoader(ds, c.opts); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Fatalf("%+v: error %v, want one about %s", c.opts, err, c.want)
		}
	}
	empty, _ := Subset(ds, nil)
	if _, err := NewLoader(empty, Options{BatchSize: 1}); err == nil || !strings.Contains(err.Error(), "the dataset is empty") {
		t.Fatalf("empty dataset: %v", err)
	}
}

func TestLoaderNativeSizeMismatchNamesTheFile(t *testing.T) {
	root := makeFolder(t) // 8x6 images
	writeFile(t, root+"/dog", "e.png", pngBytes(t, solidNRGBA(5, 5, colorGray)))
	ds, err := OpenImageFolder(root)
	if err != nil {
		t.Fatal(err)
	}
	l, err := NewLoader(ds, Options{BatchSize: 4, Workers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if _, err := l.Next(); err == nil || !strings.Contains(err.Error(), "e.png") || !strings.Contains(err.Error(), "Options.Size") {
		t.Fatalf("error %v, want one naming e.png and Options.Size", err)
	}
	// With a Size, the same folder loads, resized.
	l2, err := NewLoader(ds, Options{BatchSize: 4, Size: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	if b, err := l2.Next(); err != nil || b.H != 7 || b.W != 7 || b.C != 3 || b.N != 4 {
		t.Fatalf("resized batch: %+v %v", b, err)
	}
}

func TestSubset(t *testing.T) {
	ds := openSubset(t, "test")
	sub, err := Subset(ds, []int{7, 3, 7})
	if err != nil {
		t.Fatal(err)
	}
	a, _, _, _ := sub.Image(1)
	b, _, _, _ := ds.Image(3)
	if sub.Len() != 3 || sub.Label(0) != ds.Label(7) || string(a) != string(b) || sub.NumClasses() != 10 {
		t.Fatal("subset does not map to the parent's samples")
	}
	if _, err := Subset(ds, []int{500}); err == nil || !strings.Contains(err.Error(), "500") {
		t.Fatalf("index 500 of 500: error %v", err)
	}
	if BatchesPerEpoch(10, 4, false) != 3 || BatchesPerEpoch(10, 4, true) != 2 {
		t.Fatal("BatchesPerEpoch")
	}
}

// colorGray is a solid fill for extra test images.
var colorGray = color.NRGBA{90, 90, 90, 255}
