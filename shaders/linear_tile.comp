#version 450
// linear_tile: the fully connected layer (classifier head, squeeze-excite
// FCs) for a batch tile of R rows at a time, so that every invocation uses
// each weight texel it fetches for all R rows (the weight, 5 MB for the
// classifier, is streamed once per tile, not once per row):
//
//   forward          y[r,o]  = b[o] + sum_i x[r,i] * w[o,i]
//   backward data    dx[r,i] = sum_o dy[r,o] * w[o,i]
//   backward weight  dw[o,i] = sum_r dy[r,o] * x[r,i]   (each element written once)
//
// The batch side of each product (x rows, dy rows) is fetched once per
// cluster of R invocations, lane j fetching row j of the tile, and
// broadcast with subgroupShuffle at constant lanes (one permute on a SIMD
// driver, where a fetch is a gather costing about a cycle per float). R is
// a power of two no larger than the subgroup (specialization constant 1,
// the wrapper's choice); clusters are R consecutive subgroup lanes, so the
// workgroup size LOCAL (constant 0) may hold several subgroups.
// All three need In % 4 == 0 (whole weight texels along i); the backward
// ones Out % 4 == 0 too (whole dy texels along o).
// Rows past the batch read its last row (forward, backward data: their
// sums are not written) or count as zero (backward weight). The reduction
// order is fixed: results are bitwise reproducible.
//
// Measured on lavapipe (`EFFV2VK_TUNE=off effv2vk bench ops --only linear`,
// 2 cores shared by five busy users, medians of 5 alternating runs against
// the row kernels of squeeze_excite.comp): classifier 1280->1000 forward
// 2.72 -> 1.13 ms (tile_oc4), backward 5.43 -> 3.87 ms (tile_ot8). The
// backward is bound by the weight gradient's stores (5 MB; lavapipe stores
// a storage buffer lane by lane): a copy of the kernel with its reduction
// removed took 3.7 ms against the full kernel's 3.8 ms, and an imageStore
// (rgba32f texel buffer) output was 1.4x slower.
// Later (classifier backward, batch 8; process CPU time per run, which a
// loaded machine blurs less than wall time; medians of 5-9 alternating
// rounds of 25 runs at load 7-9): the weight gradient alone took 4.3 ms,
// 3.3 ms with its stores never taken, 2.7 ms with its reduction cut to
// one row of 8, so both matter. Tried and not kept: 64-bit stores
// (u64vec4 of two texels per invocation, shaderInt64) 4.6 ms; a shuffle
// lane known constant (cluster base 0) 4.5 ms; 24 or 32 weight rows per
// workgroup 6.6 / 8.3 ms against 5.3 ms for 8 or 16 (register spills);
// data, weight and bias gradients in one dispatch 5.8-6.1 ms against
// 5.4-5.8 ms in three; the bias summed inside the reduction loop (OC more
// live sums) 6.0 against 5.5 ms. Kept: the bias summed after it
// (_bias kernel) 6.3 against 6.3 ms (tile_ot8) and 5.7 against 6.5 ms
// (tile_ot16), one dispatch fewer.
// Since then the classifier's weight gradient has its own kernel,
// linear_weight_outer.comp (the CPU default where it fits and dx is not
// wanted; this file's data gradient goes with it). Process CPU time per run
// of the weight + bias gradient alone (medians of 7 alternating rounds of
// 20 runs, load 8-12): tile_ot8 3.3-4.0 ms, tile_ot16 2.8-3.9 ms; lanes
// over output rows with dy in registers and 8 columns per u64vec4 store
// (outer_ch*): 4 chunks of 8 columns per invocation (640 workgroups) 3.6
// ms, 20 (128) 2.0 ms, 80 (32) 1.55 ms, 160 (16) 1.7 ms. Tried and not
// kept: lanes over column pairs, x of 8 rows in registers, one 64-bit store
// per lane and row: 8 rows per workgroup 5.5 ms, 32: 2.5-3.2, 128: 2.4-2.7,
// 512: 1.9 ms (the store loop runs once per pair, not per 8 columns). The
// data gradient alone took 0.80-0.94 ms with 8, 16, 32 or 64 invocations
// per workgroup (no change kept). Whole backward (dx, dw, db), CPU time:
// tile_ot8 4.15-4.84 ms, outer_ch80 2.47-3.47 ms (3 rounds, medians 4.17 ->
// 2.51, 0.60x). Wall, `effv2vk bench ops --only "linear 1280->1000"`, 7
// alternating runs at load 8-11, medians: 4.19 -> 2.45 ms with
// EFFV2VK_TUNE=off (0.58x); 4.02 -> 3.52 ms with a fresh tuner cache each
// (the tuner, timing on the loaded machine, picked outer_ch80 when
// checked).
// Since then the classifier's whole backward (batch of one tile, dx wanted)
// is one dispatch and one pass over the weight, linear_columns.comp
// ("columns", the CPU default there): lanes over In texels, x and dx of the
// batch in registers, each weight row added into dx and its dw row written
// as the lanes walk o. Process CPU time per run (10 runs a sample, medians
// of 60 alternating samples in one process; 3 processes at load 7-9): this
// file's data gradient alone 0.79-0.90 ms, outer_ch80's weight + bias
// gradient alone 1.34-1.73 ms; both (outer_ch80) 2.22 / 2.38 / 2.96 ms
// against columns 1.97 / 2.16 / 2.76 ms (0.89-0.93x). About 0.8 ms of
// columns is its dw stores (a copy with the store replaced by an add:
// 1.26-1.28 ms against 2.07-2.60 ms in the same runs); a copy holding 4
// batch rows (half the fma, no stores) took 0.91 ms, so the 64 floats per
// lane of x and dx are not what bounds it. Workgroups of 16 invocations
// kept: at load 10-14 (16 processes of 60 paired samples) columns against
// outer_ch80 took 0.89-0.97x with 16, 0.93-1.15x with 8 (0.87-0.89x with 8
// at load 7), 0.94-1.05x with 32, 1.0-1.5x with 64 (5 workgroups). Tried
// and not kept: vec4 dw stores instead of u64vec2 (2.24 against 1.86 ms;
// 4.5 against 2.3 ms); the bias summed in the pass by every lane (8 adds
// per row; no difference measured, so it is summed after the pass by the
// first workgroup).
// Wall, `effv2vk bench ops --only "linear 1280->1000" --runs 15`,
// EFFV2VK_TUNE=off, a fresh cache each, 14 alternating rounds against main
// 9c3efcd at load 10-14: medians 2.25 -> 1.91 ms (0.85x), fastest runs 2.01
// -> 1.63 ms. With the tuner on (a fresh cache), it picked columns (its
// rematch against tile_ot4). In a V2-S training step (batch 8, 128x128,
// load 12, one run each, so only indicative): 3.11 ms for columns against
// 2.62 + 0.66 ms for outer_ch80's two kernels, 743 against 744 dispatches.
// Since then the CPU default there is columns_wide (lanes of 8 columns):
// see linear_columns.comp's header.
//! kernel linear_tile_forward FORWARD
//! kernel linear_tile_forward_bias FORWARD BIAS
//! kernel linear_tile_backward_data BACKWARD_DATA
//! kernel linear_tile_backward_weight BACKWARD_WEIGHT
//! kernel linear_tile_backward_weight_bias BACKWARD_WEIGHT BIAS
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

layout(local_size_x = 8, local_size_x_id = 0) in;
layout(constant_id = 0) const uint LOCAL = 8;
// R: batch rows per tile, the lanes of a cluster.
layout(constant_id = 1) const uint R = 8;
// OC: forward, output columns per invocation; backward weight, output rows
// per workgroup (a multiple of 4). The wrappers always set it; the default
// (4) is one both kernels can be built with (backward weight's dy array has
// OC/4 entries, so a default under 4 would be invalid SPIR-V).
layout(constant_id = 2) const uint OC = 4;

layout(push_constant) uniform Push {
    uint n;
    uint in_features;
    uint out_features;
} pc;

#define CLUSTER_LANE (gl_SubgroupInvocationID & (R - 1u))
#define CLUSTER_BASE (gl_SubgroupInvocationID & ~(R - 1u))
#define INVOCATION (gl_WorkGroupID.x * LOCAL + gl_LocalInvocationID.x)

#if defined(FORWARD)
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(binding = 1) uniform samplerBuffer x4;
layout(binding = 2) uniform samplerBuffer w4;
#ifdef BIAS
layout(binding = 3) uniform samplerBuffer b4;
#endif

// Invocation g owns columns g*OC .. g*OC+OC-1 of tile gl_WorkGroupID.y.
void main() {
    const uint per = pc.in_features >> 2;
    const uint base = CLUSTER_BASE;
    const uint r0 = gl_WorkGroupID.y * R;
    const uint o0 = INVOCATION * OC;
    const uint xrow = min(r0 + CLUSTER_LANE, pc.n - 1u) * per;
    uint wrow[OC];
    [[unroll]] for (uint c = 0; c < OC; c++) {
        wrow[c] = min(o0 + c, pc.out_features - 1u) * per;
    }
    // The sum runs in blocks of BLOCK texels, each a fresh partial sum of
    // texel dot products, so that no chain of additions is longer than
    // about BLOCK + In/(4*BLOCK) (as short as the row kernels' chains).
    float acc[R * OC]; // acc[r*OC + c]: y[r0+r, o0+c]
    [[unroll]] for (uint k = 0; k < R * OC; k++) {
        acc[k] = 0.0;
    }
    const uint BLOCK = 16u;
    for (uint tb = 0; tb < per; tb += BLOCK) {
        float part[R * OC];
        [[unroll]] for (uint k = 0; k < R * OC; k++) {
            part[k] = 0.0;
        }
        const uint tend = min(tb + BLOCK, per);
        for (uint t = tb; t < tend; t++) {
            const vec4 xq = texelFetch(x4, int(xrow + t));
            vec4 wq[OC];
            [[unroll]] for (uint c = 0; c < OC; c++) {
                wq[c] = texelFetch(w4, int(wrow[c] + t));
            }
            [[unroll]] for (uint r = 0; r < R; r++) {
                const vec4 xr = subgroupShuffle(xq, base + r);
                [[unroll]] for (uint c = 0; c < OC; c++) {
                    const vec4 p = xr * wq[c];
                    part[r * OC + c] += (p.x + p.y) + (p.z + p.w);
                }
            }
        }
        [[unroll]] for (uint k = 0; k < R * OC; k++) {
            acc[k] += part[k];
        }
    }
    [[unroll]] for (uint c = 0; c < OC; c++) {
        const uint o = o0 + c;
        if (o < pc.out_features) {
#ifdef BIAS
            const float bias = texelFetch(b4, int(o >> 2))[o & 3u];
#else
            const float bias = 0.0;
#endif
            [[unroll]] for (uint r = 0; r < R; r++) {
                if (r0 + r < pc.n) {
                    y[(r0 + r) * pc.out_features + o] = acc[r * OC + c] + bias;
                }
            }
        }
    }
}

#elif defined(BACKWARD_DATA)
layout(std430, binding = 0) writeonly buffer DX { vec4 dx4[]; };
layout(binding = 1) uniform samplerBuffer dy4;
layout(binding = 2) uniform samplerBuffer w4;

// Invocation g owns texel g of the In features (4 of them) for tile
// gl_WorkGroupID.y; each step takes 4 outputs o: one dy texel per lane of
// the cluster and 4 weight texels.
void main() {
    const uint per = pc.in_features >> 2;
    const uint base = CLUSTER_BASE;
    const uint r0 = gl_WorkGroupID.y * R;
    const uint it = INVOCATION;
    const uint col = min(it, per - 1u);
    const uint steps = pc.out_features >> 2;
    const uint dyrow = min(r0 + CLUSTER_LANE, pc.n - 1u) * steps;
    vec4 acc[R]; // acc[r]: dx[r0+r, 4*it .. 4*it+3]
    [[unroll]] for (uint r = 0; r < R; r++) {
        acc[r] = vec4(0.0);
    }
    for (uint s = 0; s < steps; s++) {
        const vec4 g = texelFetch(dy4, int(dyrow + s));
        vec4 wq[4];
        [[unroll]] for (uint q = 0; q < 4u; q++) {
            wq[q] = texelFetch(w4, int((4u * s + q) * per + col));
        }
        [[unroll]] for (uint r = 0; r < R; r++) {
            const vec4 gr = subgroupShuffle(g, base + r);
            [[unroll]] for (uint q = 0; q < 4u; q++) {
                acc[r] = fma(vec4(gr[q]), wq[q], acc[r]);
            }
        }
    }
    if (it < per) {
        [[unroll]] for (uint r = 0; r < R; r++) {
            if (r0 + r < pc.n) {
                dx4[(r0 + r) * per + it] = acc[r];
            }
        }
    }
}

#elif defined(BACKWARD_WEIGHT)
layout(std430, binding = 0) writeonly buffer DW { vec4 dw4[]; };
layout(binding = 1) uniform samplerBuffer dy4;
layout(binding = 2) uniform samplerBuffer x4;
#ifdef BIAS
// The _bias kernel also writes the bias gradient db[o] = sum_r dy[r,o]
// (one dispatch fewer): the first workgroup along x sums its OC rows after
// the weight gradient, one row per invocation, in the order r = 0, 1, .. of
// linear_backward_bias (the same bits). (Summing the dy values the
// reduction broadcasts anyway kept OC more sums live through it and cost
// more than it saved on lavapipe.)
layout(std430, binding = 3) writeonly buffer DB { float db[]; };
#endif

// Invocation g owns texel g of the In features for the OC output rows
// o0 = gl_WorkGroupID.y * OC ..; the reduction walks the batch R rows at a
// time: lane j of the cluster fetches row j's OC dy values (OC/4 texels),
// every lane its own x texel of each row.
void main() {
    const uint per = pc.in_features >> 2;
    const uint base = CLUSTER_BASE;
    const uint o0 = gl_WorkGroupID.y * OC;
    const uint it = INVOCATION;
    const uint col = min(it, per - 1u);
    const uint dyper = pc.out_features >> 2;
    vec4 acc[OC]; // acc[j]: dw[o0+j, 4*it .. 4*it+3]
    [[unroll]] for (uint j = 0; j < OC; j++) {
        acc[j] = vec4(0.0);
    }
    for (uint r0 = 0; r0 < pc.n; r0 += R) {
        const uint row = r0 + CLUSTER_LANE;
        const bool rowOk = row < pc.n;
        vec4 g[OC / 4u];
        [[unroll]] for (uint q = 0; q < OC / 4u; q++) {
            const uint o4 = (o0 >> 2) + q;
            const bool ok = rowOk && o4 < dyper;
            const vec4 v = texelFetch(dy4, ok ? int(row * dyper + o4) : 0);
            g[q] = ok ? v : vec4(0.0);
        }
        [[unroll]] for (uint r = 0; r < R; r++) {
            const vec4 xr = texelFetch(x4, int(min(r0 + r, pc.n - 1u) * per + col));
            [[unroll]] for (uint j = 0; j < OC; j++) {
                const float gr = subgroupShuffle(g[j >> 2][j & 3u], base + r);
                acc[j] = fma(vec4(gr), xr, acc[j]);
            }
        }
    }
    if (it < per) {
        [[unroll]] for (uint j = 0; j < OC; j++) {
            if (o0 + j < pc.out_features) {
                dw4[(o0 + j) * per + it] = acc[j];
            }
        }
    }
#ifdef BIAS
    if (gl_WorkGroupID.x == 0u) {
        for (uint j = gl_LocalInvocationID.x; j < OC; j += LOCAL) {
            const uint o = o0 + j;
            if (o < pc.out_features) {
                float sum = 0.0;
                for (uint r = 0; r < pc.n; r++) {
                    sum += texelFetch(dy4, int(r * dyper + (o >> 2)))[o & 3u];
                }
                db[o] = sum;
            }
        }
    }
#endif
}
#endif
