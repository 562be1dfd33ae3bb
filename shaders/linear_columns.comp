#version 450
// linear_columns: the fully connected layer's whole backward pass (data,
// weight and, in the _bias kernels, bias gradient) in one dispatch and one
// pass over the weight, for a batch of at most R rows (the classifier at
// batch 8):
//
//   dx[r,i] = sum_o dy[r,o] * w[o,i]        (the sum in the order o = 0, 1, ..)
//   dw[o,i] = sum_r dy[r,o] * x[r,i]        (each element written once)
//   db[o]   = sum_r dy[r,o]                 (_bias kernels)
//
// Lanes span the input features: invocation g owns texel g of the In
// features (4 columns; within the device's grid: gl_WorkGroupID.x * LOCAL
// + local id), holds x of the batch's R rows there and its R rows of dx
// in registers, and walks the output rows o = 0, 1, ..: lane j of a
// cluster of R lanes fetches dy[j, o..o+3] (one texel per 4 rows) and
// subgroupShuffle hands the batch's dy values to every lane (the same for
// every column); each lane fetches its texel of weight row o (the lanes of
// a subgroup read consecutive texels), adds dy[r,o] * w[o, its columns] to
// its R dx sums and writes dw[o, its columns] = sum_r dy[r,o] * x[r, ..]:
// a u64vec2 store of the floats' bits packed in pairs (_u64 kernels, where
// the device has shaderInt64) or a vec4 store. The _u64x2 kernels (WIDE,
// with U64) give each lane 2 consecutive texels (8 columns; In % 8 == 0):
// half the lanes, x and dx of 8 columns in registers, one u64vec4 store of
// 8 floats per weight row instead of two u64vec2 ones, and the batch's dy
// shuffled once for 8 columns instead of 4.
// dx is one chain of fma over o = 0, 1, .. and dw one over r = 0, 1, ..:
// the bits of linear_tile_backward_data and linear_weight_outer; db sums
// r = 0, 1, .. as linear_backward_bias (the first workgroup writes it
// after its pass).
// R (constant 1) is a power of two no larger than the subgroup; clusters
// are R consecutive subgroup lanes, so the workgroup size LOCAL
// (constant 0) may hold several subgroups. Needs In % 4 == 0 (whole
// texels), Out % 4 == 0 (whole dy texels) and a batch of at most R rows.
// Rows past the batch count as zero. The reduction order is fixed:
// results are bitwise reproducible.
//
// On a GPU the In/4 invocations are few (320 for the classifier): the
// _split kernels (SPLIT) cut the walk over o into slices of slice_steps
// texels of 4 output rows, one per gl_WorkGroupID.y (a grid of In/4 x
// slices invocations, 10240 for the classifier in slices of 32 rows): each
// writes its dw rows and its slice's dx sums, a partial [slice, n, In] of
// binding 0; gemm_sum adds the partials in slice order afterwards (fixed
// order: the same bits every run, though not those of the one-pass
// kernels, whose dx is one chain over every o). A slice past the last
// row writes zeros.
// Measured on lavapipe: see linear_tile.comp's header (the classifier
// backward) for the kernels before _u64x2 and _split.
// The classifier backward (batch 8, 1280->1000, with db), one process
// recording 10 backward passes per sequence per variant and replaying them
// in turn, 40 rounds, medians per pass (process CPU time, which the other
// users' load blurs less than wall time; 5 processes at load 8-10):
// columns 1.65 / 1.87 / 1.73 / 1.68 / 2.31 ms against columns_wide (the
// _u64x2 kernels, workgroups of 8) 1.57 / 1.84 / 1.61 / 1.48 / 2.03 ms
// (0.88-0.98x); fastest wall time per pass 1.52-1.56 against 1.37-1.46
// ms; outer_ch80 1.97-2.48 ms. Workgroups of 16 (10 for 160 lanes) gave
// 0.75-0.97x at load 9 (not kept: noisier, and 8 gives the threads 20
// workgroups to share). Where the time goes (copies of the kernel swapped
// in, the dw store under a condition never true): columns 1.2-1.5 ms
// without its stores against 1.8-2.8 ms, columns_wide 1.04-1.15 ms
// against 1.57-2.25 ms; the 640k 64-bit element stores (5 MB) stay about
// 0.5-0.7 ms of CPU time either way (lavapipe stores lane by lane, one
// bounds check per 64-bit component). The GPU split on lavapipe: split_o32
// 3.17 against columns 1.62 ms; slices of 256 or 504 rows (4 or 2) 2.0-2.5
// and 1.95-2.36 against 1.79-2.04 ms, so no CPU variant of it is kept.
// Wall, full `EFFV2VK_TUNE=off effv2vk bench ops --json` runs alternating
// with main c8c3291 (columns), 6 rounds at load 5-8: the row "linear
// 1280->1000 bwd" medians 1.96 -> 1.71 ms (0.87x; fastest 1.64 -> 1.45),
// backward over forward in the same run 1.98 -> 1.60.
//! kernel linear_columns_backward
//! kernel linear_columns_backward_bias BIAS
//! kernel linear_columns_backward_u64 U64
//! kernel linear_columns_backward_u64_bias U64 BIAS
//! kernel linear_columns_backward_u64x2 U64 WIDE
//! kernel linear_columns_backward_u64x2_bias U64 WIDE BIAS
//! kernel linear_columns_split SPLIT
//! kernel linear_columns_split_bias SPLIT BIAS
//! kernel linear_columns_split_u64 SPLIT U64
//! kernel linear_columns_split_u64_bias SPLIT U64 BIAS
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
#ifdef U64
#extension GL_ARB_gpu_shader_int64 : require
#endif
#include "common.glsl"

layout(local_size_x = 8, local_size_x_id = 0) in;
layout(constant_id = 0) const uint LOCAL = 8;
// R: the batch rows held in registers (at most), the lanes of a cluster.
layout(constant_id = 1) const uint R = 8;

layout(push_constant) uniform Push {
    uint n;
    uint in_features;
    uint out_features;
#ifdef SPLIT
    uint slice_steps; // texels of 4 output rows per slice
#endif
} pc;

layout(std430, binding = 0) writeonly buffer DX { vec4 dx4[]; }; // SPLIT: partial sums [slices, n, In]
#if defined(WIDE)
layout(std430, binding = 1) writeonly buffer DW { u64vec4 dw8[]; }; // 2 texels, 8 floats
#elif defined(U64)
layout(std430, binding = 1) writeonly buffer DW { u64vec2 dw4[]; }; // texels of 4 floats
#else
layout(std430, binding = 1) writeonly buffer DW { vec4 dw4[]; };
#endif
layout(binding = 2) uniform samplerBuffer dy4;
layout(binding = 3) uniform samplerBuffer x4;
layout(binding = 4) uniform samplerBuffer w4;
#ifdef BIAS
layout(std430, binding = 5) writeonly buffer DB { vec4 db4[]; };
#endif

#define CLUSTER_LANE (gl_SubgroupInvocationID & (R - 1u))
#define CLUSTER_BASE (gl_SubgroupInvocationID & ~(R - 1u))

// TEX: the consecutive texels of the In features a lane owns.
#ifdef WIDE
#define TEX 2u
#else
#define TEX 1u
#endif

#ifdef U64
// packPair packs v's floats into two 64-bit words (bits unchanged).
u64vec2 packPair(vec4 v) {
    return u64vec2(packUint2x32(floatBitsToUint(v.xy)), packUint2x32(floatBitsToUint(v.zw)));
}
#endif

// storeTexels writes dw[o, 4t .. 4t+4*TEX-1] = v[0], .. (t a multiple of
// TEX): one store per lane.
void storeTexels(uint o, uint t, vec4 v[TEX]) {
    const uint at = o * (pc.in_features >> 2) + t;
#if defined(WIDE)
    dw8[at >> 1] = u64vec4(packPair(v[0]), packPair(v[1]));
#elif defined(U64)
    dw4[at] = packPair(v[0]);
#else
    dw4[at] = v[0];
#endif
}

void main() {
    const uint per = pc.in_features >> 2;
    const uint lanes = per / TEX;
    const uint steps = pc.out_features >> 2;
    const uint base = CLUSTER_BASE;
    const uint lane = CLUSTER_LANE;
    const uint g = gl_WorkGroupID.x * LOCAL + gl_LocalInvocationID.x;
    const bool mine = g < lanes;
    const uint col = TEX * min(g, lanes - 1u); // the lane's first texel
    // x rows past the batch read its last row (their dy is zero).
    vec4 xr[TEX * R]; // xr[t*R + r]: x[r, 4(col+t) .. 4(col+t)+3]
    [[unroll]] for (uint t = 0; t < TEX; t++) {
        [[unroll]] for (uint r = 0; r < R; r++) {
            xr[t * R + r] = texelFetch(x4, int(min(r, pc.n - 1u) * per + col + t));
        }
    }
    vec4 acc[TEX * R]; // acc[t*R + r]: dx[r, 4(col+t) .. 4(col+t)+3]
    [[unroll]] for (uint i = 0; i < TEX * R; i++) {
        acc[i] = vec4(0.0);
    }
    const bool rowOk = lane < pc.n;
    const uint dyrow = min(lane, pc.n - 1u) * steps;
#ifdef SPLIT
    const uint first = gl_WorkGroupID.y * pc.slice_steps;
    const uint last = min(steps, first + pc.slice_steps);
    const uint dxAt = gl_WorkGroupID.y * pc.n * per;
#else
    const uint first = 0u, last = steps, dxAt = 0u;
#endif
    for (uint s = first; s < last; s++) {
        const vec4 fetched = texelFetch(dy4, int(dyrow + s));
        const vec4 gv = rowOk ? fetched : vec4(0.0);
        [[unroll]] for (uint q = 0; q < 4u; q++) {
            const uint o = 4u * s + q;
            float d[R]; // dy[r, o]
            [[unroll]] for (uint r = 0; r < R; r++) {
                d[r] = subgroupShuffle(gv[q], base + r);
            }
            vec4 wq[TEX], dw[TEX];
            [[unroll]] for (uint t = 0; t < TEX; t++) {
                wq[t] = texelFetch(w4, int(o * per + col + t));
                dw[t] = vec4(0.0);
            }
            [[unroll]] for (uint r = 0; r < R; r++) {
                [[unroll]] for (uint t = 0; t < TEX; t++) {
                    dw[t] = fma(vec4(d[r]), xr[t * R + r], dw[t]);
                }
            }
            [[unroll]] for (uint r = 0; r < R; r++) {
                [[unroll]] for (uint t = 0; t < TEX; t++) {
                    acc[t * R + r] = fma(vec4(d[r]), wq[t], acc[t * R + r]);
                }
            }
            if (mine) {
                storeTexels(o, col, dw);
            }
        }
    }
    if (mine) {
        [[unroll]] for (uint r = 0; r < R; r++) {
            if (r < pc.n) {
                [[unroll]] for (uint t = 0; t < TEX; t++) {
                    dx4[dxAt + r * per + col + t] = acc[t * R + r];
                }
            }
        }
    }
#ifdef BIAS
    // The first workgroup sums dy's texels of 4 output rows each, in the
    // order r = 0, 1, .. of linear_backward_bias (the same bits).
    if (gl_WorkGroupID.x == 0u && gl_WorkGroupID.y == 0u) {
        for (uint s = gl_LocalInvocationID.x; s < steps; s += LOCAL) {
            vec4 sum = vec4(0.0);
            for (uint r = 0; r < pc.n; r++) {
                sum += texelFetch(dy4, int(r * steps + s));
            }
            db4[s] = sum;
        }
    }
#endif
}
