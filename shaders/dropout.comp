#version 450
// Random masks from a counter-based generator: drop path (stochastic depth,
// one mask per sample), dropout (one mask per element) and raw uniforms (for
// tests and augmentation). Forward and backward are the same kernel: the
// backward draws the same mask again from the same (seed, step, stream).
//
// Randomness is Philox4x32-10 exactly as ops/ref.Philox4x32 and ref.Uniform:
// key = (lo32(seed), hi32(seed)), counter = (index, step, stream, 0),
// u = float(word0 >> 8) * 2^-24, so the device reproduces the reference bit
// for bit. seed and step are read from a uint32[4] tensor (seed lo, seed hi,
// step, first sample) that the host updates between replays of a recorded
// sequence; stream is a push constant fixed at recording. The first sample
// is the global index of the batch's sample 0 (a data-parallel rank trains
// a slice of a larger batch): masks are keyed by the global sample index,
// so a slice draws what the whole batch draws for those samples.
// The drop_path_u64 variant (CPU drivers with shaderInt64, per % 16 == 0)
// scales 16 elements per invocation by one draw and writes them as two
// u64vec4 (floats bit-packed in pairs): on lavapipe a storage-buffer store
// is a loop over the lanes with a bounds check per component, and Philox's
// ten rounds of 32x32->64 multiplies are emulated in SIMD; drop_path_vec4
// draws once and stores 4 components per 4 elements. Same products, so the
// same bits. `effv2vk bench ops --only "drop path"` (31 runs, 3 alternating
// pairs on a loaded machine, 2026-11-30): vec4 1.95/1.97/2.39 ms, _u64
// 0.54/0.51/0.92 ms.
//! kernel philox_uniform UNIFORM
//! kernel drop_path DROP_PATH
//! kernel drop_path_vec4 DROP_PATH VEC4
//! kernel drop_path_u64 DROP_PATH U64
//! kernel dropout DROPOUT
//! kernel dropout_vec4 DROPOUT VEC4
#ifdef U64
#extension GL_ARB_gpu_shader_int64 : require
#extension GL_EXT_control_flow_attributes : require
#endif
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0) in;

layout(std430, binding = 0) writeonly buffer Y {
#if defined(U64)
    u64vec4 y8[]; // groups of 8 floats, bit-packed in pairs
#elif defined(VEC4)
    vec4 y4[];
#else
    float y[];
#endif
};
#ifdef UNIFORM
layout(std430, binding = 1) readonly buffer RNG { uint rng[4]; };
layout(push_constant) uniform Push {
    uint n;
    uint stream;
} pc;
#else
layout(binding = 1) uniform samplerBuffer x4;
layout(std430, binding = 2) readonly buffer RNG { uint rng[4]; };
// threshold: keep (drop path) or p (dropout); scale: 1/keep or 1/(1-p).
// per: elements per sample. first: the bound tensor's first sample within
// the recorded batch (a batch split binds one slice at a time; 0 otherwise).
layout(push_constant) uniform Push {
    uint n;
    uint per;
    float threshold;
    float scale;
    uint stream;
    uint first;
} pc;
#endif

// philox4x32_10 is the Philox4x32-10 bijection of counter c under key k.
uvec4 philox4x32_10(uvec4 c, uvec2 k) {
    for (int round = 0; round < 10; round++) {
        if (round > 0) {
            k += uvec2(0x9E3779B9u, 0xBB67AE85u);
        }
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, c.x, hi0, lo0);
        umulExtended(0xCD9E8D57u, c.z, hi1, lo1);
        c = uvec4(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    }
    return c;
}

// uniform01 is ref.Uniform(seed, step, stream, index): one of the 2^24
// values k/2^24 in [0,1).
float uniform01(uint index) {
    uvec4 r = philox4x32_10(uvec4(index, rng[2], pc.stream, 0u), uvec2(rng[0], rng[1]));
    return float(r.x >> 8) * (1.0 / 16777216.0);
}

#ifdef DROP_PATH
// factor is 1/keep for a kept sample, 0 for a dropped one.
float factor(uint i) {
    return uniform01(i / pc.per + rng[3] + pc.first) < pc.threshold ? pc.scale : 0.0;
}
#elif defined(DROPOUT)
float factor(uint i) {
    return uniform01(i + (rng[3] + pc.first) * pc.per) >= pc.threshold ? pc.scale : 0.0;
}
#endif

#ifdef U64
// U64_GROUPS is the groups of 8 floats per invocation of the _u64 variant.
const uint U64_GROUPS = 2u;

// packPair holds a and b as one 64-bit word, a in its low half (the first
// in memory).
uint64_t packPair(float a, float b) {
    return packUint2x32(floatBitsToUint(vec2(a, b)));
}
#endif

void main() {
#ifdef U64
    // per % (8*U64_GROUPS) == 0: the invocation's elements lie within one
    // sample, whose factor is drawn once.
    uint g = linear_invocation();
    uint first = g * (8u * U64_GROUPS);
    if (first >= pc.n) {
        return;
    }
    float f = factor(first);
    [[unroll]] for (uint q = 0; q < U64_GROUPS; q++) {
        uint t4 = (first >> 2) + 2u * q;
        vec4 lo = texelFetch(x4, int(t4)) * f;
        vec4 hi = texelFetch(x4, int(t4 + 1u)) * f;
        y8[(first >> 3) + q] = u64vec4(packPair(lo.x, lo.y), packPair(lo.z, lo.w), packPair(hi.x, hi.y), packPair(hi.z, hi.w));
    }
#else
    uint t = linear_invocation();
    uint base = t << 2;
    if (base >= pc.n) {
        return;
    }
#ifdef UNIFORM
    for (uint k = 0; k < 4u; k++) {
        if (base + k < pc.n) {
            y[base + k] = uniform01(base + k);
        }
    }
#else
    vec4 v = texelFetch(x4, int(t));
#if defined(VEC4) && defined(DROP_PATH)
    // per % 4 == 0: the texel lies within one sample.
    y4[t] = v * factor(base);
#elif defined(VEC4)
    y4[t] = v * vec4(factor(base), factor(base + 1u), factor(base + 2u), factor(base + 3u));
#else
    for (uint k = 0; k < 4u; k++) {
        if (base + k < pc.n) {
            y[base + k] = v[k] * factor(base + k);
        }
    }
#endif
#endif
#endif
}
