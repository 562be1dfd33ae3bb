package data

import (
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// mixBatchFixture returns n images of 4x5x3 where image i is filled with
// 20*i+10, and labels i%classes.
func mixBatchFixture(n, classes int) ([]uint8, []int32) {
	images := make([]uint8, n*60)
	labels := make([]int32, n)
	for i := 0; i < n; i++ {
		for k := 0; k < 60; k++ {
			images[i*60+k] = uint8(20*i + 10)
		}
		labels[i] = int32(i % classes)
	}
	return images, labels
}

func TestMixupTargetsSumToOneAndMatchPixels(t *testing.T) {
	const n, classes = 5, 4
	for seed := uint64(0); seed < 20; seed++ {
		images, labels := mixBatchFixture(n, classes)
		orig := append([]uint8(nil), images...)
		p := MixParams{MixupAlpha: 0.4, LabelSmoothing: 0.1}
		targets, lam := MixBatch(images, n, 4, 5, 3, labels, classes, p, newRand(seed, 0, 0, streamMix), nil)
		if len(targets) != n*classes {
			t.Fatalf("%d targets, want %d", len(targets), n*classes)
		}
		if err := enginetest.Between(lam, 0, 1); err != nil {
			t.Fatalf("lambda: %v", err)
		}
		for i := 0; i < n; i++ {
			sum := 0.0
			for k := 0; k < classes; k++ {
				sum += float64(targets[i*classes+k])
			}
			if err := enginetest.Within(sum, 1, 1e-5); err != nil {
				t.Fatalf("seed %d row %d sum: %v", seed, i, err)
			}
			// The row's own label carries lam of the label mass.
			want := lam*(1-0.1+0.1/classes) + (1-lam)*0.1/classes
			if labels[i] == labels[n-1-i] {
				want = 1 - 0.1 + 0.1/classes
			}
			if err := enginetest.Within(float64(targets[i*classes+int(labels[i])]), want, 1e-5); err != nil {
				t.Fatalf("row %d own class (lambda %g): %v", i, lam, err)
			}
			wantPix := clampUint8(lam*float64(orig[i*60]) + (1-lam)*float64(orig[(n-1-i)*60]))
			if images[i*60+17] != wantPix {
				t.Fatalf("image %d pixel = %d, want %d", i, images[i*60+17], wantPix)
			}
		}
	}
}

func TestCutMixPastesABoxWithTheCorrectedLambda(t *testing.T) {
	const n, classes = 4, 3
	for seed := uint64(0); seed < 20; seed++ {
		images, labels := mixBatchFixture(n, classes)
		targets, lam := MixBatch(images, n, 4, 5, 3, labels, classes, MixParams{CutMixAlpha: 1}, newRand(seed, 0, 0, streamMix), nil)
		for i := 0; i < n; i++ {
			own, other := uint8(20*i+10), uint8(20*(n-1-i)+10)
			ownCount := 0
			for k := 0; k < 60; k++ {
				switch images[i*60+k] {
				case own:
					ownCount++
				case other:
				default:
					t.Fatalf("image %d has pixel %d, neither its own nor its partner's", i, images[i*60+k])
				}
			}
			if err := enginetest.Within(float64(ownCount)/60, lam, 1e-9); err != nil {
				t.Fatalf("seed %d image %d: the fraction of its pixels it keeps against lambda: %v", seed, i, err)
			}
			sum := float32(0)
			for k := 0; k < classes; k++ {
				sum += targets[i*classes+k]
			}
			if err := enginetest.Within(float64(sum), 1, 1e-5); err != nil {
				t.Fatalf("row %d sum: %v", i, err)
			}
		}
	}
}

func TestMixOffGivesOneHotTargets(t *testing.T) {
	images, labels := mixBatchFixture(3, 3)
	orig := append([]uint8(nil), images...)
	targets, lam := MixBatch(images, 3, 4, 5, 3, labels, 3, MixParams{}, newRand(1, 0, 0, streamMix), nil)
	if lam != 1 || string(images) != string(orig) {
		t.Fatalf("alpha 0 mixed the images (lambda %g)", lam)
	}
	for i := 0; i < 3; i++ {
		for k := 0; k < 3; k++ {
			want := float32(0)
			if k == int(labels[i]) {
				want = 1
			}
			if targets[i*3+k] != want {
				t.Fatalf("row %d = %v, want one-hot %d", i, targets[i*3:i*3+3], labels[i])
			}
		}
	}
}

func TestMixParamsValidate(t *testing.T) {
	for _, p := range []MixParams{{MixupAlpha: -1}, {CutMixAlpha: math.NaN()}, {SwitchProb: 2}, {LabelSmoothing: 1}} {
		if p.validate() == nil {
			t.Fatalf("%+v: no error", p)
		}
	}
}
