#version 450
// linear_weight_outer: the fully connected layer's weight gradient (and,
// in the _bias kernels, its bias gradient) as an outer product over the
// batch, for a batch of a few rows (the classifier at batch 8):
//
//   dw[o,i] = sum_r dy[r,o] * x[r,i]        (each element written once)
//   db[o]   = sum_r dy[r,o]                 (_bias kernels)
//
// Lanes span output rows: invocation g owns row o = g (within the device's
// grid: gl_WorkGroupID.x * LOCAL + local id) and holds dy[r,o] for a tile
// of R batch rows in registers, then walks CH chunks of 8 consecutive
// columns (chunk gl_WorkGroupID.y * CH ..): lane j of a cluster of R lanes
// fetches row j's two x texels of the chunk, which subgroupShuffle hands
// to every lane (x[r, chunk] is the same for every row o), and each lane
// writes its 8 elements of dw at once: one u64vec4 store of the floats'
// bits packed in pairs (_u64 kernels, where the device has shaderInt64; a
// storage-buffer store on a SIMD driver is a loop over the lanes with a
// check per component: 4 stores per iteration, not 1) or two vec4 stores.
// Each element is one chain of fma over r = 0, 1, .. (the bits of
// linear_tile_backward_weight).
// R (constant 1) is a power of two no larger than the subgroup; clusters
// are R consecutive subgroup lanes, so the workgroup size LOCAL
// (constant 0) may hold several subgroups. Needs In % 8 == 0 (whole
// chunks) and Out % 4 == 0 (whole dy texels). A batch of more than R rows
// takes a slower path (dy fetched again for every chunk). Rows past the
// batch count as zero. The reduction order is fixed: results are bitwise
// reproducible.
//
// Measured on lavapipe: see linear_tile.comp's header (the classifier
// backward).
//! kernel linear_weight_outer
//! kernel linear_weight_outer_bias BIAS
//! kernel linear_weight_outer_u64 U64
//! kernel linear_weight_outer_u64_bias U64 BIAS
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
#ifdef U64
#extension GL_ARB_gpu_shader_int64 : require
#endif
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0) in;
layout(constant_id = 0) const uint LOCAL = 64;
// R: batch rows per tile, the lanes of a cluster.
layout(constant_id = 1) const uint R = 8;
// CH: chunks of 8 columns per invocation.
layout(constant_id = 2) const uint CH = 8;

layout(push_constant) uniform Push {
    uint n;
    uint in_features;
    uint out_features;
} pc;

#ifdef U64
layout(std430, binding = 0) writeonly buffer DW { u64vec4 dw8[]; }; // chunks of 8 floats
#else
layout(std430, binding = 0) writeonly buffer DW { vec4 dw4[]; };
#endif
layout(binding = 1) uniform samplerBuffer dy4;
layout(binding = 2) uniform samplerBuffer x4;
#ifdef BIAS
layout(std430, binding = 3) writeonly buffer DB { float db[]; };
#endif

#define CLUSTER_LANE (gl_SubgroupInvocationID & (R - 1u))
#define CLUSTER_BASE (gl_SubgroupInvocationID & ~(R - 1u))

// storeChunk writes dw[o, 8c .. 8c+7] = (a, b).
void storeChunk(uint o, uint c, vec4 a, vec4 b) {
    const uint chunks = pc.in_features >> 3;
#ifdef U64
    dw8[o * chunks + c] = u64vec4(packUint2x32(floatBitsToUint(a.xy)), packUint2x32(floatBitsToUint(a.zw)),
                                  packUint2x32(floatBitsToUint(b.xy)), packUint2x32(floatBitsToUint(b.zw)));
#else
    dw4[2u * (o * chunks + c)] = a;
    dw4[2u * (o * chunks + c) + 1u] = b;
#endif
}

// dyOf is dy[row, o], zero past the batch.
float dyOf(uint row, uint o) {
    const bool ok = row < pc.n;
    const vec4 v = texelFetch(dy4, int(min(row, pc.n - 1u) * (pc.out_features >> 2) + (o >> 2)));
    return ok ? v[o & 3u] : 0.0;
}

// xTexel is x[row, 4t .. 4t+3] (row clamped to the batch).
vec4 xTexel(uint row, uint t) {
    return texelFetch(x4, int(min(row, pc.n - 1u) * (pc.in_features >> 2) + t));
}

void main() {
    const uint chunks = pc.in_features >> 3;
    const uint g = gl_WorkGroupID.x * LOCAL + gl_LocalInvocationID.x;
    const uint o = min(g, pc.out_features - 1u);
    const bool mine = g < pc.out_features;
    const uint base = CLUSTER_BASE;
    const uint lane = CLUSTER_LANE;
    const uint c0 = gl_WorkGroupID.y * CH;
    const uint cend = min(c0 + CH, chunks);
    if (pc.n <= R) {
        // One tile: dy in registers for every chunk.
        float d[R];
        [[unroll]] for (uint r = 0; r < R; r++) {
            d[r] = dyOf(r, o);
        }
        for (uint c = c0; c < cend; c++) {
            const vec4 xa = xTexel(lane, 2u * c), xb = xTexel(lane, 2u * c + 1u);
            vec4 a = vec4(0.0), b = vec4(0.0);
            [[unroll]] for (uint r = 0; r < R; r++) {
                a = fma(vec4(d[r]), subgroupShuffle(xa, base + r), a);
            }
            [[unroll]] for (uint r = 0; r < R; r++) {
                b = fma(vec4(d[r]), subgroupShuffle(xb, base + r), b);
            }
            if (mine) {
                storeChunk(o, c, a, b);
            }
        }
    } else {
        for (uint c = c0; c < cend; c++) {
            vec4 a = vec4(0.0), b = vec4(0.0);
            for (uint r0 = 0; r0 < pc.n; r0 += R) {
                const vec4 xa = xTexel(r0 + lane, 2u * c), xb = xTexel(r0 + lane, 2u * c + 1u);
                [[unroll]] for (uint r = 0; r < R; r++) {
                    const float dr = dyOf(r0 + r, o);
                    a = fma(vec4(dr), subgroupShuffle(xa, base + r), a);
                    b = fma(vec4(dr), subgroupShuffle(xb, base + r), b);
                }
            }
            if (mine) {
                storeChunk(o, c, a, b);
            }
        }
    }
#ifdef BIAS
    // The first workgroup along y sums row o's dy in the order r = 0, 1, ..
    // of linear_backward_bias (the same bits).
    if (gl_WorkGroupID.y == 0u && mine) {
        float sum = 0.0;
        for (uint r = 0; r < pc.n; r++) {
            sum += dyOf(r, o);
        }
        db[o] = sum;
    }
#endif
}
