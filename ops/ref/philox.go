package ref

import "math/bits"

// The Philox4x32-10 constants of Salmon, Moraes, Dror and Shaw, "Parallel
// random numbers: as easy as 1, 2, 3" (SC 2011).
const (
	philoxM0 uint32 = 0xD2511F53 // multiplier applied to counter word 0
	philoxM1 uint32 = 0xCD9E8D57 // multiplier applied to counter word 2
	philoxW0 uint32 = 0x9E3779B9 // Weyl increment of key word 0 (golden ratio)
	philoxW1 uint32 = 0xBB67AE85 // Weyl increment of key word 1 (sqrt(3)-1)
	// PhiloxRounds is the number of rounds of Philox4x32-10.
	PhiloxRounds = 10
)

// Philox4x32 is the Philox4x32-10 counter-based generator: a bijection of the
// 128-bit counter keyed by the 64-bit key. Each of the 10 rounds computes,
// with hi/lo the upper and lower 32 bits of a 64-bit product,
//
//	hi0:lo0 = M0 * c[0];  hi1:lo1 = M1 * c[2]
//	c = { hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0 }
//
// and between rounds the key is bumped: k[0] += W0, k[1] += W1 (mod 2^32).
// The first round uses the key as given; the result is c after round 10.
func Philox4x32(counter [4]uint32, key [2]uint32) [4]uint32 {
	c, k := counter, key
	for round := range PhiloxRounds {
		if round > 0 {
			k[0] += philoxW0
			k[1] += philoxW1
		}
		hi0, lo0 := bits.Mul32(philoxM0, c[0])
		hi1, lo1 := bits.Mul32(philoxM1, c[2])
		c = [4]uint32{hi1 ^ c[1] ^ k[0], lo1, hi0 ^ c[3] ^ k[1], lo0}
	}
	return c
}

// Uniform is the engine's one source of randomness on the device: a float in
// [0,1) addressed by (seed, step, stream, index).
//
//	key     = { lo32(seed), hi32(seed) }
//	counter = { index, step, stream, 0 }
//	r       = Philox4x32(counter, key)[0]
//	u       = float32(r >> 8) * 2^-24
//
// The top 24 bits of word 0 are exact in float32, so u is one of the 2^24
// values k/2^24 and a GLSL kernel reproduces it bit for bit. stream tells
// apart the uses within a step (one per drop-path site, one per dropout).
func Uniform(seed uint64, step, stream, index uint32) float64 {
	key := [2]uint32{uint32(seed), uint32(seed >> 32)}
	r := Philox4x32([4]uint32{index, step, stream, 0}, key)[0]
	return float64(float32(r>>8) * (1.0 / (1 << 24)))
}
