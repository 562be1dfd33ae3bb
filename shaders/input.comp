#version 450
// prepare_input: a batch of 8-bit NHWC images [N,H,W,C] (C = 1 gray or 3
// RGB) to the network's float input [N,3,outH,outW], as ops/ref.PrepareInput:
// gray repeated into the three channels, v = (byte/255 - mean[ch]) / std[ch],
// and PyTorch's bilinear resize (align_corners=False, no antialias):
//   src = max((dst + 0.5) * in/out - 0.5, 0); i0 = min(floor(src), in-1);
//   i1 = min(i0 + 1, in-1); l1 = src - i0; l0 = 1 - l1.
// The bytes are read as packed uint32 words through an R32UI texel view; the
// interpolation runs on the raw bytes and the normalization after it (equal
// up to rounding, since both are affine and the weights sum to 1). One
// invocation computes all three channels of one output pixel (four
// neighbouring pixels in the _vec4 variant, outW % 4 == 0): the taps are
// shared, and the bytes of a source pixel come from at most two words.
// Conversions between float and integer go through int: x86 SIMD has no
// unsigned ones, and drivers emulate them.
// The _narrow variant serves upscaling (outW >= 3*W, as 28 -> 128): the
// four pixels of an invocation then read at most three neighbouring source
// columns, so it fetches those (two words per row for gray, three for RGB)
// instead of every tap's pixel (16 or 32 fetches): the same taps and
// arithmetic, so the same bits. On lavapipe 28x28 gray -> 128x128 took
// 1.4x less time than with _vec4 (medians 1.17 vs 1.70 ms on a loaded
// machine); what remains is mostly the three vec4 stores, a loop over the
// lanes there, and the per-pixel tap arithmetic. Workgroups of 256 or
// 1024 invocations were no faster than 64 (8 was 1.5x slower).
// The _u64 variants (devices with shaderInt64, outW % 8 == 0) compute
// eight neighbouring pixels (two groups of four, each as above) and write
// each channel's eight values as one u64vec4 (floats bit-packed in pairs):
// on lavapipe a storage-buffer store is a loop over the lanes with a bounds
// check per component, so this halves the store loops per value.
// The _pairs variants serve resizes by less than 2x (scale_w < 2, as
// 224 -> 128): two neighbouring pixels then read at most four neighbouring
// source columns, fetched once per pair (4 words per row for RGB instead of
// 8, 2 for gray instead of 4), each tap picking its column among them; the
// same taps and arithmetic, so the same bits. On a loaded lavapipe
// (2026-11-29) 224x224x3 -> 128x128 took about the same time with _pairs as
// with every tap's pixel read alone (the "taps" tuned variant; CPU time per
// run 1.05-1.53 vs 1.05-1.25 ms): the four-way picks cost what the fetches
// saved there; they stay for devices where a fetch costs more. The u64vec4
// stores took 12-15% less CPU time than vec4 stores for both resizes.
// Reading the words through a uniform texel buffer (usamplerBuffer with an
// R32UI view, texelFetch) instead of imageLoad changed nothing (2026-11-30,
// 4 alternating pairs, 101 runs each: medians 1.04-1.18 vs 1.07-1.55 ms,
// the same user CPU time); dropped. 224x224x3 -> 128x128 costs ~1.3 ms of
// CPU time per run over lavapipe's two threads (401 runs: 0.57-0.84 s of
// user time, ~0.1 s of it start-up; three rounds of the tuned variants:
// auto 0.59-0.70 s, taps 0.57-0.71, vec4_stores 0.61-0.84), so it runs in ~0.65 ms when the machine is quiet
// (fastest of 401 runs 0.55-0.9 ms) and twice that when other work
// shares the cores.
//! kernel prepare_input
//! kernel prepare_input_vec4 VEC4
//! kernel prepare_input_vec4_narrow VEC4 NARROW
//! kernel prepare_input_vec4_pairs VEC4 PAIRS
//! kernel prepare_input_u64 VEC4 U64
//! kernel prepare_input_u64_narrow VEC4 NARROW U64
//! kernel prepare_input_u64_pairs VEC4 PAIRS U64
#extension GL_EXT_control_flow_attributes : require
#ifdef U64
#extension GL_ARB_gpu_shader_int64 : require
#endif
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0) in;

layout(push_constant) uniform Push {
    uint n;
    uint h;
    uint w;
    uint c;
    uint out_h;
    uint out_w;
    float scale_h; // h / out_h
    float scale_w; // w / out_w
    float mean0;
    float mean1;
    float mean2;
    float std0;
    float std1;
    float std2;
    float inv_across; // 1 / (out_w / PER)
} pc;

#if defined(U64)
layout(std430, binding = 0) writeonly buffer Y { u64vec4 y8[]; }; // groups of 8 floats
const uint PER = 8u;
#elif defined(VEC4)
layout(std430, binding = 0) writeonly buffer Y { vec4 y4[]; };
const uint PER = 4u;
#else
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
const uint PER = 1u;
#endif
layout(r32ui, binding = 1) readonly uniform uimageBuffer src;

// pixel reads the (gray or RGB) source pixel at (b, row, col) as three
// floats; a gray value is repeated.
vec3 pixel(uint b, uint row, uint col) {
    uint i = ((b * pc.h + row) * pc.w + col) * pc.c;
    uint word0 = imageLoad(src, int(i >> 2)).x;
    uint shift = (i & 3u) << 3;
    if (pc.c == 1u) {
        return vec3(float(int((word0 >> shift) & 0xFFu)));
    }
    uint word1 = imageLoad(src, int((i + 2u) >> 2)).x;
    // Bytes i, i+1, i+2 as the low three bytes of lo: word1 is word0 itself
    // when they share it (the rotation then brings no stray byte into them).
    uint lo = shift == 0u ? word0 : (word0 >> shift) | (word1 << (32u - shift));
    return vec3(float(int(lo & 0xFFu)), float(int((lo >> 8) & 0xFFu)), float(int((lo >> 16) & 0xFFu)));
}

// columns3 reads source columns a, a+1, a+2 (a + 2 < pc.w) of row `row` of
// image b as three (gray repeated) pixels.
void columns3(uint b, uint row, uint a, out vec3 c[3]) {
    uint i = ((b * pc.h + row) * pc.w + a) * pc.c;
    uint q = i >> 2;
    uint shift = (i & 3u) << 3;
    uint word0 = imageLoad(src, int(q)).x;
    // Gray needs bytes i .. i+2 only: its second word is word0 itself when
    // they share it (never one past the source's end).
    uint word1 = imageLoad(src, int(pc.c == 1u ? (i + 2u) >> 2 : q + 1u)).x;
    // Bytes i .. i+3 of the source as lo, i+4 .. i+7 as hi (RGB).
    uint lo = shift == 0u ? word0 : (word0 >> shift) | (word1 << (32u - shift));
    if (pc.c == 1u) {
        [[unroll]] for (uint j = 0; j < 3u; j++) {
            c[j] = vec3(float(int((lo >> (8u * j)) & 0xFFu)));
        }
        return;
    }
    uint word2 = imageLoad(src, int(q + 2u)).x;
    uint hi = shift == 0u ? word1 : (word1 >> shift) | (word2 << (32u - shift));
    uint top = shift == 0u ? word2 : (word2 >> shift); // byte i+8 in its low byte
    c[0] = vec3(float(int(lo & 0xFFu)), float(int((lo >> 8) & 0xFFu)), float(int((lo >> 16) & 0xFFu)));
    c[1] = vec3(float(int(lo >> 24)), float(int(hi & 0xFFu)), float(int((hi >> 8) & 0xFFu)));
    c[2] = vec3(float(int((hi >> 16) & 0xFFu)), float(int(hi >> 24)), float(int(top & 0xFFu)));
}

// columns4 reads source columns a .. a+3 (a + 3 < pc.w) of row `row` of
// image b as four (gray repeated) pixels.
void columns4(uint b, uint row, uint a, out vec3 c[4]) {
    uint i = ((b * pc.h + row) * pc.w + a) * pc.c;
    uint q = i >> 2;
    uint shift = (i & 3u) << 3;
    uint word0 = imageLoad(src, int(q)).x;
    if (pc.c == 1u) {
        // Bytes i .. i+3: the second word is word0 itself when i is aligned.
        uint word1 = imageLoad(src, int((i + 3u) >> 2)).x;
        uint lo = shift == 0u ? word0 : (word0 >> shift) | (word1 << (32u - shift));
        [[unroll]] for (uint j = 0; j < 4u; j++) {
            c[j] = vec3(float(int((lo >> (8u * j)) & 0xFFu)));
        }
        return;
    }
    // Bytes i .. i+11 as lo, mid, hi; the last word read is the one holding
    // byte i+11 (never one past the source's end).
    uint word1 = imageLoad(src, int(q + 1u)).x;
    uint word2 = imageLoad(src, int(q + 2u)).x;
    uint word3 = imageLoad(src, int((i + 11u) >> 2)).x;
    uint lo = shift == 0u ? word0 : (word0 >> shift) | (word1 << (32u - shift));
    uint mid = shift == 0u ? word1 : (word1 >> shift) | (word2 << (32u - shift));
    uint hi = shift == 0u ? word2 : (word2 >> shift) | (word3 << (32u - shift));
    c[0] = vec3(float(int(lo & 0xFFu)), float(int((lo >> 8) & 0xFFu)), float(int((lo >> 16) & 0xFFu)));
    c[1] = vec3(float(int(lo >> 24)), float(int(mid & 0xFFu)), float(int((mid >> 8) & 0xFFu)));
    c[2] = vec3(float(int((mid >> 16) & 0xFFu)), float(int(mid >> 24)), float(int(hi & 0xFFu)));
    c[3] = vec3(float(int((hi >> 8) & 0xFFu)), float(int((hi >> 16) & 0xFFu)), float(int(hi >> 24)));
}

// pick4 returns c[k] for k in 0..3.
vec3 pick4(vec3 c[4], uint k) {
    return k < 2u ? (k == 0u ? c[0] : c[1]) : (k == 2u ? c[2] : c[3]);
}

// pick returns c[k] for k in 0..2.
vec3 pick(vec3 c[3], uint k) {
    return k == 0u ? c[0] : (k == 1u ? c[1] : c[2]);
}

// tap is where output coordinate d reads along an axis of extent in.
void tap(uint d, uint in_extent, float scale, out uint i0, out uint i1, out float l1) {
    float s = max((float(d) + 0.5) * scale - 0.5, 0.0);
    i0 = min(uint(int(s)), in_extent - 1u);
    i1 = i0 < in_extent - 1u ? i0 + 1u : i0;
    l1 = clamp(s - float(int(i0)), 0.0, 1.0);
}

#ifdef U64
// pack8 holds v[0..7] as four 64-bit words, the even element of each pair in
// its low half (the first in memory).
u64vec4 pack8(float v[PER]) {
    return u64vec4(packUint2x32(floatBitsToUint(vec2(v[0], v[1]))), packUint2x32(floatBitsToUint(vec2(v[2], v[3]))),
                   packUint2x32(floatBitsToUint(vec2(v[4], v[5]))), packUint2x32(floatBitsToUint(vec2(v[6], v[7]))));
}
#endif

// Grid: (ceil(outH*outW/PER/64), 1, N): x walks one image's output pixels,
// z the images, so the only division (row of a pixel) has a small quotient
// and runs as divu (integer division runs lane by lane on SIMD drivers: it
// was the most of this kernel's time on lavapipe).
void main() {
    uint idx = gl_GlobalInvocationID.x;
    uint across = pc.out_w / PER; // invocations per output row
    if (idx >= pc.out_h * across) {
        return;
    }
    uint oy = divu(idx, across, pc.inv_across);
    uint ox0 = (idx - oy * across) * PER;
    uint b = gl_WorkGroupID.z;
    uint y0, y1;
    float ly1;
    tap(oy, pc.h, pc.scale_h, y0, y1, ly1);
    vec3 mean = vec3(pc.mean0, pc.mean1, pc.mean2);
    vec3 inv = 1.0 / vec3(pc.std0, pc.std1, pc.std2);
    float out0[PER], out1[PER], out2[PER];
#if defined(NARROW)
    uint a0;
    vec3 row0[3], row1[3];
#elif defined(PAIRS)
    uint a0;
    vec3 row0[4], row1[4];
#endif
    [[unroll]] for (uint k = 0; k < PER; k++) {
#ifdef NARROW
        if (k % 4u == 0u) {
            // The source columns of pixels k .. k+3: a0 .. a0+2 (a0 + 2 < pc.w).
            uint unused1;
            float unused2;
            tap(ox0 + k, pc.w, pc.scale_w, a0, unused1, unused2);
            a0 = min(a0, pc.w - 3u);
            columns3(b, y0, a0, row0);
            columns3(b, y1, a0, row1);
        }
#elif defined(PAIRS)
        if (k % 2u == 0u) {
            // The source columns of pixels k, k+1: a0 .. a0+3 (a0 + 3 < pc.w).
            uint unused1;
            float unused2;
            tap(ox0 + k, pc.w, pc.scale_w, a0, unused1, unused2);
            a0 = min(a0, pc.w - 4u);
            columns4(b, y0, a0, row0);
            columns4(b, y1, a0, row1);
        }
#endif
        uint x0, x1;
        float lx1;
        tap(ox0 + k, pc.w, pc.scale_w, x0, x1, lx1);
#ifdef NARROW
        vec3 top = mix(pick(row0, x0 - a0), pick(row0, x1 - a0), lx1);
        vec3 bottom = mix(pick(row1, x0 - a0), pick(row1, x1 - a0), lx1);
#elif defined(PAIRS)
        vec3 top = mix(pick4(row0, x0 - a0), pick4(row0, x1 - a0), lx1);
        vec3 bottom = mix(pick4(row1, x0 - a0), pick4(row1, x1 - a0), lx1);
#else
        vec3 top = mix(pixel(b, y0, x0), pixel(b, y0, x1), lx1);
        vec3 bottom = mix(pixel(b, y1, x0), pixel(b, y1, x1), lx1);
#endif
        vec3 v = (mix(top, bottom, ly1) * (1.0 / 255.0) - mean) * inv;
        out0[k] = v.x;
        out1[k] = v.y;
        out2[k] = v.z;
    }
    // Flat index of channel 0 of (b, oy, ox0); channel planes are out_h*out_w apart.
    uint plane = pc.out_h * pc.out_w;
    uint o = (b * 3u * pc.out_h + oy) * pc.out_w + ox0;
#if defined(U64)
    y8[o >> 3] = pack8(out0);
    y8[(o + plane) >> 3] = pack8(out1);
    y8[(o + 2u * plane) >> 3] = pack8(out2);
#elif defined(VEC4)
    y4[o >> 2] = vec4(out0[0], out0[1], out0[2], out0[3]);
    y4[(o + plane) >> 2] = vec4(out1[0], out1[1], out1[2], out1[3]);
    y4[(o + 2u * plane) >> 2] = vec4(out2[0], out2[1], out2[2], out2[3]);
#else
    y[o] = out0[0];
    y[o + plane] = out1[0];
    y[o + 2u * plane] = out2[0];
#endif
}
