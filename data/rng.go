package data

import "math/rand/v2"

// Streams keep the random numbers of different purposes apart, so that, for
// example, turning mixup on does not change the crops.
const (
	streamShuffle uint64 = 0x5348554646 // "SHUFF"
	streamSample  uint64 = 0x53414d504c // "SAMPL"
	streamMix     uint64 = 0x4d4958     // "MIX"
)

// splitmix64 is a bijective 64-bit mixer (Steele et al.) used to turn the
// (seed, epoch, index) triple into well-spread PCG seeds.
func splitmix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// newRand returns a PCG generator determined only by (seed, epoch, index) and
// the stream: the same triple always gives the same numbers, whichever
// goroutine asks.
func newRand(seed uint64, epoch, index int, stream uint64) *rand.Rand {
	hi := splitmix64(seed ^ splitmix64(stream))
	lo := splitmix64(hi ^ splitmix64(uint64(epoch)^splitmix64(uint64(index)+stream)))
	return rand.New(rand.NewPCG(hi, lo))
}

// SampleRand returns the generator the Loader uses to augment dataset sample
// index in the given epoch; exposed so tools can reproduce one sample.
func SampleRand(seed uint64, epoch, index int) *rand.Rand {
	return newRand(seed, epoch, index, streamSample)
}
