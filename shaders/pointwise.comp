#version 450
// pointwise: 1x1 convolutions (no bias, stride 1) as GEMMs, NCHW.
//
//   forward          y[n] (OC x HW) = W (OC x C) * x[n] (C x HW)      (NN)
//   backward data    dx[n] (C x HW) = W^T (C x OC) * dy[n] (OC x HW)   (NN)
//   backward weight  dW (OC x C)    = sum_n dy[n] * x[n]^T             (NT)
//
// One kernel computes O(m,j) = sum_k A(m,k) * B(k,j) for rows m < M,
// columns j < Ncol, with the element addresses
//
//   NN: A(m,k) = m*am + k*ak      B(k,j) = k*hw + jb(j)   O(m,j) = m*hw + jo(j)
//       where j = n*hw + p, jb(j) = n*K*hw + p, jo(j) = n*M*hw + p
//       (forward: am = K, ak = 1; backward data: am = 1, ak = M)
//   NT: k = n*hw + p (the reduction runs over batch and pixels)
//       A(m,k) = m*hw + n*M*hw + p   B(k,j) = j*hw + n*Ncol*hw + p
//       O(m,j) = m*Ncol + j
//
// Tiling, chosen for lavapipe and good on GPUs: a cluster of 8 invocations
// inside one subgroup owns 32 columns (4 per invocation, one vec4) and
// RT*8 rows, whose accumulators (RT*8 vec4 per invocation) stay in
// registers over the whole reduction. A workgroup is LOCAL invocations (a
// specialization constant), LOCAL/8 clusters owning neighbouring column
// tiles: 8 (one cluster) on lavapipe, more on GPUs, whose subgroups hold
// several clusters (clusters are numbered by subgroup id and lane, so
// LOCAL must be a multiple of the subgroup size, or one subgroup). For each chunk of KC reduction steps
// it loads its B panel (KC x vec4 per invocation) into a private array
// indexed only by constants (the chunk is fully unrolled), then sweeps its
// RT row tiles: each invocation fetches A for one row (or, column-major A,
// 4 rows of 2 k) and subgroupShuffle with constant lanes broadcasts it, so
// every invocation updates an 8 x vec4 register tile. Each output element
// is written once, at the end, to a storage buffer (storage-image loads and
// stores are slow on lavapipe: a read-modify-write per chunk cost more than
// the arithmetic, and imageStore outputs ran 1.2-1.7x slower than buffer
// stores: `effv2vk bench ops --only 1x1`, 192->48 backward data 17 -> 28
// GFLOP/s).
// The reduction order is fixed: results are bitwise reproducible.
// Tried for 192->48 @32x32 backward data (M 192, K 48, the slowest 1x1
// row; 2026-11-30, a heavily loaded machine, so user CPU time of 151
// `bench ops` runs per process, EFFV2VK_TUNE_FORCE): u64vec2 output stores
// (vec4 bits packed in pairs) 2.00/2.03/2.13 s against vec4 stores'
// 2.08/2.02/2.13 s, no gain (dropped); scalar stores cost ~10% more; the
// tuned variants rt1, rt2, a_once and rh8 all 1.96-2.30 s. The forward of
// the same shape (same flops, a quarter of the outputs) takes 1.16-1.26 s.
// What it was: the reduction chunk. With KC 24 (K = 48) the B panel of 24
// vec4 per invocation (96 floats, each a 256-bit register across
// lavapipe's 8 lanes; the CPU has 32) most likely spilled; KC 8 ran this row in 0.70x the time and
// every other 1x1 row in 0.79-0.99x (three alternating quiet `bench ops
// --only "1x1 "` runs, EFFV2VK_TUNE=off), so KC 8 is a CPU driver's
// choice. The forward of 48->192 @32x32 (the same M and K with row-major
// A) was also 1.2x faster than this backward data: column-major A costs
// some.
//
// Specialization constants pick the fetch width from the alignment the
// wrapper checked (texel buffers give 4 floats per fetch, only at
// 16-byte boundaries):
//   A_MODE 0: scalar fetches; 1: vec4 along k (K contiguous and aligned);
//          2: vec4 along m (NN with am = 1 and M % 4 == 0)
//   B_MODE 0: scalar fetches; 1: vec4 fetches (hw % 4 == 0)
// OUT_VEC4 (a define, as it changes the binding's type) writes whole vec4s
// (NN: hw % 4 == 0; NT: Ncol % 4 == 0).
//
//! kernel pointwise_nn
//! kernel pointwise_nn_v4 OUT_VEC4
//! kernel pointwise_nt NT
//! kernel pointwise_nt_v4 NT OUT_VEC4
//! kernel pointwise_nn_narrow NARROW
//! kernel pointwise_nn_v4_narrow OUT_VEC4 NARROW
//! kernel pointwise_nt_narrow NT NARROW
//! kernel pointwise_nt_v4_narrow NT OUT_VEC4 NARROW
//! kernel pointwise_nn_bn EPILOGUE
//! kernel pointwise_nn_v4_bn OUT_VEC4 EPILOGUE
//! kernel pointwise_nn_bn_narrow NARROW EPILOGUE
//! kernel pointwise_nn_v4_bn_narrow OUT_VEC4 NARROW EPILOGUE
//! kernel pointwise_nn_bn_se EPILOGUE CHANNEL_SCALE
//! kernel pointwise_nn_v4_bn_se OUT_VEC4 EPILOGUE CHANNEL_SCALE
//! kernel pointwise_nn_bn_se_narrow NARROW EPILOGUE CHANNEL_SCALE
//! kernel pointwise_nn_v4_bn_se_narrow OUT_VEC4 NARROW EPILOGUE CHANNEL_SCALE
//! kernel pointwise_nn_se CHANNEL_SCALE
//! kernel pointwise_nn_v4_se OUT_VEC4 CHANNEL_SCALE
//! kernel pointwise_nn_se_narrow NARROW CHANNEL_SCALE
//! kernel pointwise_nn_v4_se_narrow OUT_VEC4 NARROW CHANNEL_SCALE
//! kernel pointwise_nt_se NT CHANNEL_SCALE
//! kernel pointwise_nt_v4_se NT OUT_VEC4 CHANNEL_SCALE
//! kernel pointwise_nt_se_narrow NT NARROW CHANNEL_SCALE
//! kernel pointwise_nt_v4_se_narrow NT OUT_VEC4 NARROW CHANNEL_SCALE
//! kernel pointwise_nn_add ADDEND
//! kernel pointwise_nn_v4_add OUT_VEC4 ADDEND
//! kernel pointwise_nn_add_narrow NARROW ADDEND
//! kernel pointwise_nn_v4_add_narrow OUT_VEC4 NARROW ADDEND
//
// The _bn variants (forward only) apply the fused epilogue of
// include/epilogue.glsl (eval-mode batch norm, activation, residual) to
// each output, row m being the output channel. The _se variants scale the
// input x by a per-image, per-channel factor as they read it (the prologue
// of the same include): NN B(k,j) * inScale[n*K + k] (forward), NT
// B(k,j) * inScale[n*Ncol + j] (backward weight, k = n*hw + p).
//
// The _add variants (backward data) add a tensor of the output's shape to
// each output (the addend of the same include).
//
// The _narrow variants, for subgroups narrower than ROWS, do without
// subgroupShuffle: every invocation fetches the A values of all ROWS lanes
// itself (the same addresses across the workgroup; no barrier).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

// ROWS is the row tile: one row per invocation of an 8-wide cluster.
#define ROWS 8
// COLS is the number of columns a cluster owns (4 per invocation).
#define COLS 32

layout(local_size_x = ROWS, local_size_x_id = 5) in;
layout(constant_id = 5) const uint LOCAL = ROWS;
const uint CLUSTERS = LOCAL / ROWS;

layout(constant_id = 0) const uint A_MODE = 0;
layout(constant_id = 1) const uint B_MODE = 0;
// KC is the reduction chunk held in registers (a multiple of 4); the loops
// over it are unrolled so that the panel array is indexed by constants
// only. The wrapper picks it so that chunks tile K with the least padding,
// among 8 and 4 on a CPU driver (the panel then stays in vector registers)
// and 32, 24, 16 and 8 on a GPU (K = 48: 2 chunks of 24, not 2 of 32 with
// 16 steps masked); the tuner tries 4, 8 and 32 besides.
layout(constant_id = 2) const uint KC = 32;
// RT is the number of row tiles a workgroup owns (RT*ROWS rows); their
// accumulators stay in registers over the whole reduction. The wrapper
// picks it, like KC, to waste the fewest rows (M = 48: 2 groups of 3 tiles).
layout(constant_id = 3) const uint RT = 4;
// RH is the rows of a register tile swept per pass over the chunk: 4 (two
// passes, A fetched twice) keeps 16 accumulators live instead of 32, few
// enough for a CPU driver's vector registers (the wrapper's choice; 8 is
// one pass).
layout(constant_id = 4) const uint RH = 4;
// A_ONCE 1 fetches a row tile's A values of the chunk once, into a private
// array indexed by constants, for all ROWS/RH passes; 0 fetches them again
// in every pass (fewer values live, more fetches).
layout(constant_id = 6) const uint A_ONCE = 0;

layout(push_constant) uniform Push {
    uint M;     // output rows
    uint Ncol;  // output columns (NN: batch*hw; NT: input channels)
    uint K;     // reduction length (NN: channels; NT: batch*hw)
    uint hw;    // pixels per image
    uint am;    // NN: A stride between rows (forward K, backward data 1)
    uint ak;    // NN: A stride between reduction steps (forward 1, backward data M)
} pc;

#ifdef OUT_VEC4
layout(std430, binding = 0) writeonly buffer Out4 { vec4 out4[]; };
#else
layout(std430, binding = 0) writeonly buffer Out1 { float out1[]; };
#endif
layout(binding = 1) uniform samplerBuffer a4;
layout(binding = 2) uniform samplerBuffer b4;
#define EPI_BINDING 3
#include "epilogue.glsl"

// SLOT is the invocation's place in the workgroup as the clusters count it:
// with NARROW its local index; otherwise its subgroup lane, numbered on
// across subgroups when there are several clusters, so that a cluster never
// straddles two subgroups. LANE is its lane in its cluster, CLUSTER its
// cluster, LANE_BASE the subgroup lane of its cluster's lane 0 (constants
// when CLUSTERS is 1).
// A_OF(aq, q, j) is component q of lane j's A fetch aq (a vec4), A1_OF(aq,
// j) lane j's float: subgroup shuffles, or with NARROW aall[j], the fetch
// of lane j made by this invocation itself.
#ifdef NARROW
#define SLOT gl_LocalInvocationID.x
#define LANE_BASE 0u
#define A_OF(aq, q, j) aall[j][q]
#define A1_OF(aq, j) aall[j]
#else
#define SLOT (CLUSTERS == 1u ? gl_SubgroupInvocationID : gl_SubgroupID * gl_SubgroupSize + gl_SubgroupInvocationID)
#define LANE_BASE (CLUSTERS == 1u ? 0u : gl_SubgroupInvocationID & ~(ROWS - 1u))
#define A_OF(aq, q, j) subgroupShuffle(aq[q], laneBase + (j))
#define A1_OF(aq, j) subgroupShuffle(aq, laneBase + (j))
#endif
#define LANE (CLUSTERS == 1u ? SLOT : SLOT & (ROWS - 1u))
#define CLUSTER (CLUSTERS == 1u ? 0u : SLOT / ROWS)

// The A fetches of one lane, zero outside the GEMM: A_MODE 1, A(row,
// k..k+3) (k at element offset ka); A_MODE 2, A(rb..rb+3, kl); A_MODE 0,
// the float A(row, k).
vec4 fetchRowA(uint row, bool rv, bool kok, uint ka, uint am) {
    const bool ok = rv && kok;
    const vec4 v = texelFetch(a4, ok ? int((row * am + ka) >> 2) : 0);
    return ok ? v : vec4(0.0);
}

vec4 fetchColumnA(uint rb, uint kl, uint M, uint K) {
    const bool ok = rb < M && kl < K;
    const vec4 v = texelFetch(a4, ok ? int((kl * pc.ak + rb) >> 2) : 0);
    return ok ? v : vec4(0.0);
}

float fetchScalarA(uint row, bool rv, bool kok, uint ka, uint am) {
    const bool ok = rv && kok;
    const uint e = ok ? row * am + ka : 0u;
    const float v = texelFetch(a4, int(e >> 2))[e & 3u];
    return ok ? v : 0.0;
}

void main() {
    const uint lane = LANE;
    const uint laneBase = LANE_BASE;
    const uint tile = (gl_WorkGroupID.x + gl_NumWorkGroups.x * gl_WorkGroupID.z) * CLUSTERS + CLUSTER;
    if (CLUSTERS > 1u && tile * COLS >= pc.Ncol) {
        return; // the whole cluster: no lane a shuffle reads is gone
    }
    const uint col0 = tile * COLS + 4u * lane;
    const uint rowBegin = gl_WorkGroupID.y * (RT * ROWS);
    const uint M = pc.M, K = pc.K, hw = pc.hw;

    // Per-column address parts: jb for B, jo for the output.
    bool cv[4];
    uint jb[4], jo[4];
    [[unroll]] for (uint t = 0; t < 4u; t++) {
        uint j = col0 + t;
        cv[t] = j < pc.Ncol;
        j = cv[t] ? j : 0u;
#ifdef NT
        jb[t] = j * hw;
        jo[t] = j;
#else
        uint n = j / hw, p = j - n * hw;
        jb[t] = n * K * hw + p;
        jo[t] = n * M * hw + p;
#endif
    }
#ifdef NT
    const uint am = hw, om = pc.Ncol;
#else
    const uint am = pc.am, om = hw;
#endif

#if defined(CHANNEL_SCALE) && !defined(NT)
    // scaleRow[t] = n*K for column t's image n (NN); scaleLast clamps the
    // masked steps past K into range.
    uint scaleRow[4];
    [[unroll]] for (uint t = 0; t < 4u; t++) {
        scaleRow[t] = (cv[t] ? (col0 + t) / hw : 0u) * K;
    }
    const uint scaleLast = (pc.Ncol / hw) * K - 1u;
#elif defined(CHANNEL_SCALE)
    // NT: inScale[n*Ncol + j]; scaleLast clamps masked entries into range.
    const uint scaleLast = (K / hw) * pc.Ncol - 1u;
#endif

    vec4 acc[RT * ROWS]; // acc[t*ROWS + r]: row rowBegin + t*ROWS + r
    [[unroll]] for (uint r = 0; r < RT * ROWS; r++) {
        acc[r] = vec4(0.0);
    }
    for (uint k0 = 0; k0 < K; k0 += KC) {
        // Reduction-step address parts of this chunk: ka for A, kb for B.
        uint ka[KC], kb[KC];
        bool kv[KC];
#if defined(CHANNEL_SCALE) && defined(NT)
        uint kn[KC]; // n*Ncol of reduction step k0+i's image
#endif
        [[unroll]] for (uint i = 0; i < KC; i++) {
            uint k = k0 + i;
            kv[i] = k < K;
            k = kv[i] ? k : 0u;
#ifdef NT
            uint n = k / hw, p = k - n * hw;
            ka[i] = n * M * hw + p;
            kb[i] = n * pc.Ncol * hw + p;
#ifdef CHANNEL_SCALE
            kn[i] = n * pc.Ncol;
#endif
#else
            ka[i] = k * pc.ak;
            kb[i] = k * hw;
#endif
        }

        // The B panel: bp[i] holds B(k0+i, col0..col0+3), zero outside.
        vec4 bp[KC];
        if (B_MODE == 1u) {
#ifdef NT
            // 4 fetches give 4 consecutive k of each of the 4 columns.
            [[unroll]] for (uint i4 = 0; i4 < KC / 4u; i4++) {
                const uint i = 4u * i4;
                vec4 c[4];
                [[unroll]] for (uint t = 0; t < 4u; t++) {
                    const bool ok = kv[i] && cv[t];
                    const vec4 v = texelFetch(b4, ok ? int((kb[i] + jb[t]) >> 2) : 0);
                    c[t] = ok ? v : vec4(0.0);
                }
                [[unroll]] for (uint q = 0; q < 4u; q++) {
                    bp[i + q] = vec4(c[0][q], c[1][q], c[2][q], c[3][q]);
                }
            }
#else
            [[unroll]] for (uint i = 0; i < KC; i++) {
                const bool ok = kv[i] && cv[0];
                const vec4 v = texelFetch(b4, ok ? int((kb[i] + jb[0]) >> 2) : 0);
                bp[i] = ok ? v : vec4(0.0);
            }
#endif
        } else {
            [[unroll]] for (uint i = 0; i < KC; i++) {
                [[unroll]] for (uint t = 0; t < 4u; t++) {
                    const bool ok = kv[i] && cv[t];
                    const uint e = ok ? kb[i] + jb[t] : 0u;
                    const float v = texelFetch(b4, int(e >> 2))[e & 3u];
                    bp[i][t] = ok ? v : 0.0;
                }
            }
        }

#ifdef CHANNEL_SCALE
        // The prologue: B(k, j) of image n scaled by inScale[n*K + k]
        // (NT: inScale[n*Ncol + j]).
        // With vec4 B fetches (hw % 4 == 0) the 4 columns share one image.
        [[unroll]] for (uint i = 0; i < KC; i++) {
#ifdef NT
            [[unroll]] for (uint t = 0; t < 4u; t++) {
                bp[i][t] *= inputScale(min(kn[i] + col0 + t, scaleLast));
            }
#else
            if (B_MODE == 1u) {
                bp[i] *= inputScale(min(scaleRow[0] + k0 + i, scaleLast));
            } else {
                [[unroll]] for (uint t = 0; t < 4u; t++) {
                    bp[i][t] *= inputScale(min(scaleRow[t] + k0 + i, scaleLast));
                }
            }
#endif
        }
#endif

        // Each branch (fixed once specialized) holds one fully unrolled
        // sweep of the chunk over the RT row tiles, free of branches:
        // fetches are unconditional (clamped index) and masked by selects.
        if (A_MODE == 1u) {
            // A(row, k..k+3) in one texel; lane r holds row r0+r.
            [[unroll]] for (uint t = 0; t < RT; t++) {
                const uint row = rowBegin + t * ROWS + lane;
                const bool rv = row < M;
                vec4 ac[KC / 4u];
                [[unroll]] for (uint i4 = 0; i4 < KC / 4u; i4++) {
                    ac[i4] = A_ONCE == 1u ? fetchRowA(row, rv, kv[4u * i4], ka[4u * i4], am) : vec4(0.0);
                }
                [[unroll]] for (uint h = 0; h < ROWS; h += RH) {
                [[unroll]] for (uint i4 = 0; i4 < KC / 4u; i4++) {
                    const uint i = 4u * i4;
                    const vec4 aq = A_ONCE == 1u ? ac[i4] : fetchRowA(row, rv, kv[i], ka[i], am);
#ifdef NARROW
                    vec4 aall[ROWS];
                    [[unroll]] for (uint j = 0; j < ROWS; j++) {
                        const uint rj = rowBegin + t * ROWS + j;
                        const bool okj = rj < M && kv[i];
                        const vec4 vj = texelFetch(a4, okj ? int((rj * am + ka[i]) >> 2) : 0);
                        aall[j] = okj ? vj : vec4(0.0);
                    }
#endif
                    [[unroll]] for (uint q = 0; q < 4u; q++) {
                        [[unroll]] for (uint rr = 0; rr < RH; rr++) {
                            const uint r = h + rr;
                            acc[t * ROWS + r] = fma(vec4(A_OF(aq, q, r)), bp[i + q], acc[t * ROWS + r]);
                        }
                    }
                }
                }
            }
        } else if (A_MODE == 2u) {
            // A(rb..rb+3, k + lane/2) in one texel, rb = r0 + 4*(lane%2).
            [[unroll]] for (uint t = 0; t < RT; t++) {
                const uint rb = rowBegin + t * ROWS + 4u * (lane & 1u);
                vec4 ac[KC / 4u];
                [[unroll]] for (uint i4 = 0; i4 < KC / 4u; i4++) {
                    ac[i4] = A_ONCE == 1u ? fetchColumnA(rb, k0 + 4u * i4 + (lane >> 1), M, K) : vec4(0.0);
                }
                [[unroll]] for (uint h = 0; h < ROWS; h += RH) {
                [[unroll]] for (uint i4 = 0; i4 < KC / 4u; i4++) {
                    const uint i = 4u * i4;
                    const vec4 aq = A_ONCE == 1u ? ac[i4] : fetchColumnA(rb, k0 + i + (lane >> 1), M, K);
#ifdef NARROW
                    vec4 aall[ROWS];
                    [[unroll]] for (uint j = 0; j < ROWS; j++) {
                        const uint rbj = rowBegin + t * ROWS + 4u * (j & 1u);
                        const uint klj = k0 + i + (j >> 1);
                        const bool okj = rbj < M && klj < K;
                        const vec4 vj = texelFetch(a4, okj ? int((klj * pc.ak + rbj) >> 2) : 0);
                        aall[j] = okj ? vj : vec4(0.0);
                    }
#endif
                    [[unroll]] for (uint q = 0; q < 4u; q++) {
                        [[unroll]] for (uint rr = 0; rr < RH; rr++) {
                            const uint r = h + rr;
                            acc[t * ROWS + r] = fma(vec4(A_OF(aq, r & 3u, 2u * q + (r >> 2))), bp[i + q], acc[t * ROWS + r]);
                        }
                    }
                }
                }
            }
        } else {
            // One float per fetch; lane r holds row r0+r.
            [[unroll]] for (uint t = 0; t < RT; t++) {
                const uint row = rowBegin + t * ROWS + lane;
                const bool rv = row < M;
                float ac[KC];
                [[unroll]] for (uint i = 0; i < KC; i++) {
                    ac[i] = A_ONCE == 1u ? fetchScalarA(row, rv, kv[i], ka[i], am) : 0.0;
                }
                [[unroll]] for (uint h = 0; h < ROWS; h += RH) {
                [[unroll]] for (uint i = 0; i < KC; i++) {
                    const float aq = A_ONCE == 1u ? ac[i] : fetchScalarA(row, rv, kv[i], ka[i], am);
#ifdef NARROW
                    float aall[ROWS];
                    [[unroll]] for (uint j = 0; j < ROWS; j++) {
                        const uint rj = rowBegin + t * ROWS + j;
                        const bool okj = rj < M && kv[i];
                        const uint ej = okj ? rj * am + ka[i] : 0u;
                        const float vj = texelFetch(a4, int(ej >> 2))[ej & 3u];
                        aall[j] = okj ? vj : 0.0;
                    }
#endif
                    [[unroll]] for (uint rr = 0; rr < RH; rr++) {
                        const uint r = h + rr;
                        acc[t * ROWS + r] = fma(vec4(A1_OF(aq, r)), bp[i], acc[t * ROWS + r]);
                    }
                }
                }
            }
        }
    }

    // Each output element is written once, after the whole reduction.
    [[unroll]] for (uint r = 0; r < RT * ROWS; r++) {
        const uint row = rowBegin + r;
        if (row < M) {
#ifdef OUT_VEC4
            if (cv[0]) {
                out4[(row * om + jo[0]) >> 2] = epilogue4(acc[r], row, (row * om + jo[0]) >> 2);
            }
#else
            [[unroll]] for (uint t = 0; t < 4u; t++) {
                if (cv[t]) {
                    out1[row * om + jo[t]] = epilogue1(acc[r][t], row, row * om + jo[t]);
                }
            }
#endif
        }
    }
}
