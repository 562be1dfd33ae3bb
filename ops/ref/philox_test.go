package ref

import (
	"fmt"
	"math"
	"testing"

	"github.com/effv2vk/effv2vk/engine/enginetest"
)

// The known-answer vectors of Random123 (kat_vectors, philox4x32 with 10
// rounds), published with Salmon et al. 2011.
func TestPhilox4x32KnownAnswers(t *testing.T) {
	for _, c := range []struct {
		counter [4]uint32
		key     [2]uint32
		want    [4]uint32
	}{
		{[4]uint32{0, 0, 0, 0}, [2]uint32{0, 0}, [4]uint32{0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
		{
			[4]uint32{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, [2]uint32{0xffffffff, 0xffffffff},
			[4]uint32{0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
		},
		{
			[4]uint32{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, [2]uint32{0xa4093822, 0x299f31d0},
			[4]uint32{0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1},
		},
	} {
		if got := Philox4x32(c.counter, c.key); got != c.want {
			t.Errorf("Philox4x32(%08x, %08x) = %08x, want %08x", c.counter, c.key, got, c.want)
		}
	}
}

func TestUniformKnownAnswer(t *testing.T) {
	// Counter 0, key 0: word 0 is 0x6627e8d5, whose top 24 bits are 0x6627e8.
	if got, want := Uniform(0, 0, 0, 0), float64(0x6627e8)/(1<<24); got != want {
		t.Errorf("Uniform(0,0,0,0) = %v, want %v", got, want)
	}
}

// The seed's low word is key word 0, and (index, step, stream) fill counter
// words 0, 1, 2.
func TestUniformAddressing(t *testing.T) {
	const seed = uint64(0x299f31d0)<<32 | 0xa4093822
	r := Philox4x32([4]uint32{7, 3, 2, 0}, [2]uint32{0xa4093822, 0x299f31d0})[0]
	if got, want := Uniform(seed, 3, 2, 7), float64(r>>8)/(1<<24); got != want {
		t.Errorf("Uniform(seed, step 3, stream 2, index 7) = %v, want %v", got, want)
	}
	seen := map[float64]string{}
	for _, a := range [][3]uint32{{0, 0, 0}, {1, 0, 0}, {0, 1, 0}, {0, 0, 1}} {
		u := Uniform(seed, a[0], a[1], a[2])
		name := fmt.Sprint(a)
		if prev, dup := seen[u]; dup {
			t.Errorf("(step, stream, index) %s and %s draw the same value %v", prev, name, u)
		}
		seen[u] = name
	}
}

func TestUniformRangeAndMean(t *testing.T) {
	const count = 20000
	sum := 0.0
	for i := range count {
		u := Uniform(12345, 9, 4, uint32(i))
		if err := enginetest.Between(u, 0, math.Nextafter(1, 0)); err != nil {
			t.Fatalf("Uniform index %d: %v, want [0,1)", i, err)
		}
		if u*(1<<24) != float64(int(u*(1<<24))) {
			t.Fatalf("Uniform index %d = %v is not a multiple of 2^-24", i, u)
		}
		sum += u
	}
	// The standard deviation of the mean is sqrt(1/12/count) ~ 0.002.
	if err := enginetest.Within(sum/count, 0.5, 0.01); err != nil {
		t.Errorf("mean of %d draws: %v", count, err)
	}
}
