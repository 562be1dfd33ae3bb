#version 450
// The squeeze-excite gate's two layers in one dispatch each way (the pool
// and the channel scale stay in squeeze_excite.comp). Shapes: pooled and
// the gate g [N,C], fc1 w1 [Q,C] b1 [Q], fc2 w2 [C,Q] b2 [C]:
//
//   squeeze_excite_mlp_forward (one workgroup per sample n)
//     s1[n,q] = b1[q] + sum_c pooled[n,c] * w1[q,c];  a1 = SiLU(s1)
//     g[n,c]  = sigmoid(b2[c] + sum_q a1[n,q] * w2[c,q])
//   writes s1 and a1 (backward reads them) and g; a1 of the sample lives
//   in shared memory between the two layers.
//
//   squeeze_excite_mlp_backward_data (one workgroup per sample n), from dg
//     ds2[n,c]     = dg[n,c] * g[n,c] * (1 - g[n,c])
//     ds1[n,q]     = SiLU'(s1[n,q]) * sum_c ds2[n,c] * w2[c,q]
//     dpooled[n,c] = sum_q ds1[n,q] * w1[q,c]
//   writes ds2 and ds1 (the parameter gradients read them) and dpooled.
//
//   squeeze_excite_mlp_backward_params (one invocation per 4x4 tile of a
//   weight gradient; biases by the tiles of the first column)
//     dw1[q,c] = sum_n ds1[n,q] * pooled[n,c];  db1[q] = sum_n ds1[n,q]
//     dw2[c,q] = sum_n ds2[n,c] * a1[n,q];      db2[c] = sum_n ds2[n,c]
//   the _vec4 variant needs C % 4 == 0 and Q % 4 == 0.
//
//   squeeze_excite_mlp_forward_subgroup: the forward pass by a workgroup of
//   one subgroup (below); ops/tune_squeeze_excite_mlp.go lets the tuner
//   choose between it and squeeze_excite_mlp_forward at either local size.
//
//   squeeze_excite_mlp_backward_data_subgroup: the per-sample backward by a
//   workgroup of one subgroup (below); ops/tune_squeeze_excite_mlp_backward.go
//   lets the tuner choose between it and squeeze_excite_mlp_backward_data,
//   each followed by squeeze_excite_mlp_backward_params.
//
// Every sum runs in a fixed order (bitwise reproducible). The reductions
// over C in the per-sample kernels give each hidden unit q to one
// invocation of each of `groups` groups (groups = local size / Q, at least
// 1), group j summing channels j, j + groups, ...: neighbouring invocations
// hold neighbouring q and read the same channel (a uniform load), and the
// group partials are added in shared memory in group order. The backward
// pass's unit is four hidden units (one texel of a w2 row) where Q % 4 == 0,
// and dpooled takes four channels (one texel of a w1 row) per step where
// C % 4 == 0.
//! kernel squeeze_excite_mlp_forward MLP_FORWARD
//! kernel squeeze_excite_mlp_forward_subgroup MLP_FORWARD_SUBGROUP
//! kernel squeeze_excite_mlp_backward_data MLP_BACKWARD_DATA
//! kernel squeeze_excite_mlp_backward_data_subgroup MLP_BACKWARD_DATA_SUBGROUP
//! kernel squeeze_excite_mlp_backward_params MLP_BACKWARD_PARAMS
//! kernel squeeze_excite_mlp_backward_params_vec4 MLP_BACKWARD_PARAMS VEC4
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0) in;

// fetch1 reads element i of a tensor viewed as RGBA32F texels.
#define fetch1(buf, i) texelFetch(buf, int((i) >> 2))[(i) & 3u]

layout(push_constant) uniform Push {
    uint n; // batch
    uint c; // channels (the gate's width)
    uint q; // hidden units (the squeeze)
} pc;

float sigmoid1(float z) {
    return 1.0 / (1.0 + exp(-z));
}

#if defined(MLP_FORWARD_SUBGROUP) || defined(MLP_BACKWARD_DATA_SUBGROUP)
// laneSum4 adds v over the subgroup's lanes (a butterfly: every lane gets
// the same, bitwise, since each step adds the same two values).
vec4 laneSum4(vec4 v) {
    for (uint m = gl_SubgroupSize >> 1; m > 0u; m >>= 1) {
        v += subgroupShuffleXor(v, m);
    }
    return v;
}

#endif

#if defined(MLP_FORWARD) || defined(MLP_BACKWARD_DATA)
layout(constant_id = 1) const uint HIDDEN = 1; // Q (the shared hidden vector's length)

const uint BLOCK = 32u; // steps of an invocation's sum over C per block

shared vec4 partial[gl_WorkGroupSize.x]; // forward: .x only
shared float hidden[HIDDEN];

// The reduction layout over C: `span` hidden units per pass, `groups`
// partial sums per unit.
uint spanOf() {
    return min(pc.q, gl_WorkGroupSize.x);
}
uint groupsOf() {
    return max(1u, gl_WorkGroupSize.x / pc.q);
}
#endif

#if defined(MLP_FORWARD)
layout(std430, binding = 0) writeonly buffer S1 { float s1[]; };
layout(std430, binding = 1) writeonly buffer A1 { float a1[]; };
layout(std430, binding = 2) writeonly buffer G { float g[]; };
layout(binding = 3) uniform samplerBuffer pooled4;
layout(binding = 4) uniform samplerBuffer w14;
layout(binding = 5) uniform samplerBuffer b14;
layout(binding = 6) uniform samplerBuffer w24;
layout(binding = 7) uniform samplerBuffer b24;

void main() {
    uint n = linear_group();
    if (n >= pc.n) {
        return; // the whole workgroup: no barrier is skipped by part of it
    }
    uint inv = gl_LocalInvocationIndex;
    uint C = pc.c, Q = pc.q;
    uint span = spanOf(), groups = groupsOf();
    uint grp = inv / span, lq = inv % span;
    for (uint q0 = 0; q0 < Q; q0 += span) {
        uint q = q0 + lq;
        float acc = 0.0;
        if (grp < groups && q < Q) {
            if ((C & 3u) == 0u) {
                uint xr = n * (C >> 2), wr = q * (C >> 2);
                // Two-level sum (blocks of BLOCK steps): the rounding error
                // grows with the blocks' count plus their length, not C.
                vec4 a = vec4(0.0);
                for (uint b = grp; b < (C >> 2); b += groups * BLOCK) {
                    vec4 part = vec4(0.0);
                    for (uint t = b; t < min(b + groups * BLOCK, C >> 2); t += groups) {
                        part += texelFetch(pooled4, int(xr + t)) * texelFetch(w14, int(wr + t));
                    }
                    a += part;
                }
                acc = (a.x + a.y) + (a.z + a.w);
            } else {
                for (uint b = grp; b < C; b += groups * BLOCK) {
                    float part = 0.0;
                    for (uint i = b; i < min(b + groups * BLOCK, C); i += groups) {
                        part += fetch1(pooled4, n * C + i) * fetch1(w14, q * C + i);
                    }
                    acc += part;
                }
            }
        }
        partial[inv].x = acc;
        barrier();
        if (inv < span && q < Q) {
            float s = 0.0;
            for (uint j = 0; j < groups; j++) {
                s += partial[j * span + inv].x;
            }
            s += fetch1(b14, q);
            float a = s * sigmoid1(s);
            s1[n * Q + q] = s;
            a1[n * Q + q] = a;
            hidden[q] = a;
        }
        barrier();
    }
    // The loops over channels are uniform (every invocation runs each
    // step, past-the-end ones on the last channel, unwritten): the hidden
    // vector's shared loads then stay uniform, one load for all lanes
    // (inside a divergent loop a CPU driver loads lane by lane).
    for (uint c0 = 0; c0 < C; c0 += gl_WorkGroupSize.x) {
        uint c = min(c0 + inv, C - 1u);
        float acc = 0.0;
        if ((Q & 3u) == 0u) {
            uint wr = c * (Q >> 2);
            vec4 a = vec4(0.0);
            for (uint t = 0; t < (Q >> 2); t++) {
                vec4 h = vec4(hidden[4u * t], hidden[4u * t + 1u], hidden[4u * t + 2u], hidden[4u * t + 3u]);
                a += h * texelFetch(w24, int(wr + t));
            }
            acc = (a.x + a.y) + (a.z + a.w);
        } else {
            for (uint q = 0; q < Q; q++) {
                acc += hidden[q] * fetch1(w24, c * Q + q);
            }
        }
        if (c0 + inv < C) {
            g[n * C + c] = sigmoid1(acc + fetch1(b24, c));
        }
    }
}

#elif defined(MLP_FORWARD_SUBGROUP)
// The forward pass by a workgroup of exactly one subgroup (local size =
// the subgroup size, required where the device allows it): each lane sums
// a strided share of the channels for four hidden units at a time, the
// shares are added by a butterfly of subgroupShuffleXor (fixed order; every
// lane ends with the same sums), and the hidden vector reaches the second
// layer through shared memory behind a subgroup barrier only, where each
// lane copies it into registers (loops of the constant HIDDEN / 4 steps).
// C % 4 and Q % 4 are specialization constants: a CPU driver runs both
// sides of a uniform branch's loads, masked.
//
// Measured on lavapipe (llvmpipe 8 lanes, 2 cores shared with other jobs,
// load 6-13: medians of `effv2vk bench ops --runs 15 --only "gate
// 768->32->768 fwd"`, old and new alternating, 2026-11-29): the first layer
// alone takes about 0.11 ms, the second was the cost. The old kernel (64
// invocations: 8 subgroups run as coroutines switching at each barrier)
// 0.88-1.5 ms, at one subgroup of 8 about the same; this kernel with the
// hidden vector read from shared memory in the second layer 0.30-0.45 ms
// (its four shared loads a step cost about 0.22 ms, the unaligned paths'
// masked loads about 0.12 ms before the alignment became a specialization
// constant), with it in registers 0.18-0.43 ms: in 5 alternating rounds
// old 1.53 ms, this kernel (EFFV2VK_TUNE=off) 0.43 ms, tuned 0.35 ms.
layout(constant_id = 1) const uint HIDDEN = 1;    // Q (the shared hidden vector's length)
layout(constant_id = 2) const uint C_ALIGNED = 0; // C % 4 == 0: whole texels of w1 rows
layout(constant_id = 3) const uint Q_ALIGNED = 0; // Q % 4 == 0: whole texels of w2 rows

const uint BLOCK = 32u; // steps of a lane's sum over C per block

shared vec4 hidden4[(HIDDEN + 3u) / 4u]; // four units a texel

layout(std430, binding = 0) writeonly buffer S1 { float s1[]; };
layout(std430, binding = 1) writeonly buffer A1 { float a1[]; };
layout(std430, binding = 2) writeonly buffer G { float g[]; };
layout(binding = 3) uniform samplerBuffer pooled4;
layout(binding = 4) uniform samplerBuffer w14;
layout(binding = 5) uniform samplerBuffer b14;
layout(binding = 6) uniform samplerBuffer w24;
layout(binding = 7) uniform samplerBuffer b24;

void main() {
    uint n = linear_group();
    if (n >= pc.n) {
        return;
    }
    uint lane = gl_SubgroupInvocationID, lanes = gl_SubgroupSize;
    uint C = pc.c, Q = pc.q;
    for (uint q0 = 0; q0 < Q; q0 += 4u) {
        // Units past Q repeat the last one (computed, not written).
        uvec4 qs = min(uvec4(q0) + uvec4(0u, 1u, 2u, 3u), uvec4(Q - 1u));
        vec4 s = vec4(0.0);
        // Uniform loops: every lane runs each step, a lane past the end
        // adds zero (its pooled value) times the last channel's weight.
        if (C_ALIGNED != 0u) {
            uint C4 = C >> 2, xr = n * C4;
            uvec4 wr = qs * C4;
            for (uint b = 0; b < C4; b += lanes * BLOCK) {
                vec4 p0 = vec4(0.0), p1 = vec4(0.0), p2 = vec4(0.0), p3 = vec4(0.0);
                for (uint t0 = b; t0 < min(b + lanes * BLOCK, C4); t0 += lanes) {
                    uint t = min(t0 + lane, C4 - 1u);
                    vec4 x = t0 + lane < C4 ? texelFetch(pooled4, int(xr + t)) : vec4(0.0);
                    p0 += x * texelFetch(w14, int(wr.x + t));
                    p1 += x * texelFetch(w14, int(wr.y + t));
                    p2 += x * texelFetch(w14, int(wr.z + t));
                    p3 += x * texelFetch(w14, int(wr.w + t));
                }
                s += vec4((p0.x + p0.y) + (p0.z + p0.w), (p1.x + p1.y) + (p1.z + p1.w),
                          (p2.x + p2.y) + (p2.z + p2.w), (p3.x + p3.y) + (p3.z + p3.w));
            }
        } else {
            uvec4 wr = qs * C;
            for (uint b = 0; b < C; b += lanes * BLOCK) {
                vec4 part = vec4(0.0);
                for (uint c0 = b; c0 < min(b + lanes * BLOCK, C); c0 += lanes) {
                    uint c = min(c0 + lane, C - 1u);
                    float x = c0 + lane < C ? fetch1(pooled4, n * C + c) : 0.0;
                    part += x * vec4(fetch1(w14, wr.x + c), fetch1(w14, wr.y + c), fetch1(w14, wr.z + c),
                                     fetch1(w14, wr.w + c));
                }
                s += part;
            }
        }
        s = laneSum4(s);
        s += vec4(fetch1(b14, qs.x), fetch1(b14, qs.y), fetch1(b14, qs.z), fetch1(b14, qs.w));
        vec4 a = s / (1.0 + exp(-s));
        if (lane < 4u && q0 + lane < Q) {
            s1[n * Q + q0 + lane] = s[lane];
            a1[n * Q + q0 + lane] = a[lane];
        }
        if (lane == 0u) {
            hidden4[q0 >> 2] = a;
        }
    }
    // The workgroup is one subgroup: a subgroup barrier orders the
    // hidden vector's shared stores before its loads.
    subgroupMemoryBarrierShared();
    subgroupBarrier();
    // The hidden vector in registers (loops of constant length).
    vec4 hv[(HIDDEN + 3u) / 4u];
    for (uint t = 0; t < (HIDDEN + 3u) / 4u; t++) {
        hv[t] = hidden4[t];
    }
    for (uint c0 = 0; c0 < C; c0 += lanes) {
        uint c = min(c0 + lane, C - 1u);
        float acc = 0.0;
        if (Q_ALIGNED != 0u) {
            uint wr = c * (HIDDEN >> 2);
            vec4 a = vec4(0.0);
            for (uint t = 0; t < (HIDDEN >> 2); t++) {
                a += hv[t] * texelFetch(w24, int(wr + t));
            }
            acc = (a.x + a.y) + (a.z + a.w);
        } else {
            for (uint q = 0; q < Q; q++) {
                acc += hidden4[q >> 2][q & 3u] * fetch1(w24, c * Q + q);
            }
        }
        if (c0 + lane < C) {
            g[n * C + c] = sigmoid1(acc + fetch1(b24, c));
        }
    }
}

#elif defined(MLP_BACKWARD_DATA)
layout(std430, binding = 0) writeonly buffer DS2 { float ds2[]; };
layout(std430, binding = 1) writeonly buffer DS1 { float ds1[]; };
layout(std430, binding = 2) writeonly buffer DP { float dpooled[]; };
layout(binding = 3) uniform samplerBuffer dg4;
layout(binding = 4) uniform samplerBuffer g4;
layout(binding = 5) uniform samplerBuffer s14;
layout(binding = 6) uniform samplerBuffer w14;
layout(binding = 7) uniform samplerBuffer w24;

// gateGrad is ds2 at element i of [N,C]: the sigmoid's gradient.
float gateGrad(uint i) {
    float y = fetch1(g4, i);
    return fetch1(dg4, i) * y * (1.0 - y);
}

void main() {
    uint n = linear_group();
    if (n >= pc.n) {
        return;
    }
    uint inv = gl_LocalInvocationIndex;
    uint C = pc.c, Q = pc.q;
    for (uint c = inv; c < C; c += gl_WorkGroupSize.x) {
        ds2[n * C + c] = gateGrad(n * C + c);
    }
    // da1 by units of four hidden units (one w2 texel) where Q % 4 == 0.
    bool q4 = (Q & 3u) == 0u;
    uint units = q4 ? Q >> 2 : Q;
    uint span = min(units, gl_WorkGroupSize.x);
    uint groups = max(1u, gl_WorkGroupSize.x / units);
    uint grp = inv / span, lu = inv % span;
    for (uint u0 = 0; u0 < units; u0 += span) {
        uint u = u0 + lu;
        vec4 acc = vec4(0.0);
        if (grp < groups && u < units) {
            // Two-level sum, as in the forward pass.
            for (uint b = grp; b < C; b += groups * BLOCK) {
                vec4 part = vec4(0.0);
                uint end = min(b + groups * BLOCK, C);
                if (q4) {
                    for (uint c = b; c < end; c += groups) {
                        part += gateGrad(n * C + c) * texelFetch(w24, int(c * units + u));
                    }
                } else {
                    for (uint c = b; c < end; c += groups) {
                        part.x += gateGrad(n * C + c) * fetch1(w24, c * Q + u);
                    }
                }
                acc += part;
            }
        }
        partial[inv] = acc;
        barrier();
        if (inv < span && u < units) {
            vec4 da = vec4(0.0);
            for (uint j = 0; j < groups; j++) {
                da += partial[j * span + inv];
            }
            for (uint k = 0; k < (q4 ? 4u : 1u); k++) {
                uint q = q4 ? 4u * u + k : u;
                float s = fetch1(s14, n * Q + q);
                float sg = sigmoid1(s);
                float d = da[k] * sg * (1.0 + s * (1.0 - sg));
                ds1[n * Q + q] = d;
                hidden[q] = d;
            }
        }
        barrier();
    }
    if ((C & 3u) == 0u) {
        // Four channels (one w1 texel) per step.
        // (Uniform loops, as in the forward pass.)
        for (uint t0 = 0; t0 < (C >> 2); t0 += gl_WorkGroupSize.x) {
            uint t = min(t0 + inv, (C >> 2) - 1u);
            vec4 acc = vec4(0.0);
            for (uint q = 0; q < Q; q++) {
                acc += hidden[q] * texelFetch(w14, int(q * (C >> 2) + t));
            }
            if (t0 + inv < (C >> 2)) {
                for (uint k = 0; k < 4u; k++) {
                    dpooled[n * C + 4u * t + k] = acc[k];
                }
            }
        }
    } else {
        for (uint c0 = 0; c0 < C; c0 += gl_WorkGroupSize.x) {
            uint c = min(c0 + inv, C - 1u);
            float acc = 0.0;
            for (uint q = 0; q < Q; q++) {
                acc += hidden[q] * fetch1(w14, q * C + c);
            }
            if (c0 + inv < C) {
                dpooled[n * C + c] = acc;
            }
        }
    }
}

#elif defined(MLP_BACKWARD_DATA_SUBGROUP)
// The per-sample backward by a workgroup of exactly one subgroup, as the
// subgroup forward: lanes split the channels, each lane sums da1 for
// UNITS texels of hidden units (four units a texel) over its strided share
// of the channels in registers, a subgroupShuffleXor butterfly adds the
// shares in a fixed order (every lane ends with the same sums), ds1 goes to
// shared memory behind a subgroup barrier only, each lane copies it into
// registers, and the lanes split dpooled's channels (four at a time where
// C % 4 == 0). ds2 is computed where da1 needs it and written on the first
// pass over the hidden units. C % 4 and Q % 4 are specialization constants.
//
// Measured on lavapipe (llvmpipe 8 lanes, 2 cores shared with four other
// jobs, load 6-13, 2026-11-30; old = main 9c3efcd, new = this kernel, old
// and new alternating): `effv2vk bench ops --only "gate 768->32->768 bwd"
// --runs 15` (both dispatches) with EFFV2VK_TUNE=off, 5 rounds, medians
// old 0.953 ms, new 0.542 ms (1.76x); the tuner's own side-by-side timing
// in 3 fresh caches: shared 0.77-0.90 ms, subgroup 0.39-0.49 ms (about
// 1.9x; it chose subgroup each time; 5 rounds with the tuner on, each in
// a fresh cache, gave medians old 1.070 ms, new 0.956 ms, too noisy at
// load 10-12 to say more); the per-sample kernel alone (the
// parameter kernel skipped, 3 rounds) shared 0.50-0.89 ms, subgroup
// 0.17-0.45 ms, so the parameter kernel, unchanged, is now about half of
// the pair. In `effv2vk bench --model efficientnetv2-s --batch-size 8
// --image-size 128 --steps 3 --kernels 0` (EFFV2VK_TUNE=off, 3 rounds) the
// step's 30 per-sample backward dispatches took 215-251 ms (median 242) old,
// 55-117 ms (median 75) new; the three gate kernels together 335-371 ms
// (median 347) old, 230-280 ms (median 257) new.
layout(constant_id = 1) const uint HIDDEN = 1;    // Q (the ds1 vector's length)
layout(constant_id = 2) const uint C_ALIGNED = 0; // C % 4 == 0: whole texels of w1 rows
layout(constant_id = 3) const uint Q_ALIGNED = 0; // Q % 4 == 0: whole texels of w2 rows
layout(constant_id = 4) const uint UNITS = 8;     // texels of da1 per pass over the channels

const uint BLOCK = 32u;                    // steps of a lane's sum over C per block
const uint TEXELS = (HIDDEN + 3u) / 4u;    // texels of the hidden vector

shared vec4 hidden4[TEXELS];

layout(std430, binding = 0) writeonly buffer DS2 { float ds2[]; };
layout(std430, binding = 1) writeonly buffer DS1 { float ds1[]; };
layout(std430, binding = 2) writeonly buffer DP { float dpooled[]; };
layout(binding = 3) uniform samplerBuffer dg4;
layout(binding = 4) uniform samplerBuffer g4;
layout(binding = 5) uniform samplerBuffer s14;
layout(binding = 6) uniform samplerBuffer w14;
layout(binding = 7) uniform samplerBuffer w24;

// w2Texel is texel t (units 4t..4t+3, past Q repeating the last) of w2's
// row c.
vec4 w2Texel(uint c, uint t) {
    if (Q_ALIGNED != 0u) {
        return texelFetch(w24, int(c * TEXELS + t));
    }
    uvec4 qs = min(uvec4(4u * t) + uvec4(0u, 1u, 2u, 3u), uvec4(HIDDEN - 1u));
    uint r = c * HIDDEN;
    return vec4(fetch1(w24, r + qs.x), fetch1(w24, r + qs.y), fetch1(w24, r + qs.z), fetch1(w24, r + qs.w));
}

void main() {
    uint n = linear_group();
    if (n >= pc.n) {
        return;
    }
    uint lane = gl_SubgroupInvocationID, lanes = gl_SubgroupSize;
    uint C = pc.c;
    for (uint u0 = 0; u0 < TEXELS; u0 += UNITS) {
        vec4 da[UNITS];
        for (uint u = 0; u < UNITS; u++) {
            da[u] = vec4(0.0);
        }
        // Uniform loops (a lane past the end adds zero times the last
        // channel's weights); two-level sums as in the forward pass.
        for (uint b = 0; b < C; b += lanes * BLOCK) {
            vec4 part[UNITS];
            for (uint u = 0; u < UNITS; u++) {
                part[u] = vec4(0.0);
            }
            for (uint c0 = b; c0 < min(b + lanes * BLOCK, C); c0 += lanes) {
                uint c = min(c0 + lane, C - 1u);
                float y = fetch1(g4, n * C + c);
                float d = c0 + lane < C ? fetch1(dg4, n * C + c) * y * (1.0 - y) : 0.0;
                if (u0 == 0u && c0 + lane < C) {
                    ds2[n * C + c] = d;
                }
                for (uint u = 0; u < UNITS; u++) {
                    part[u] += d * w2Texel(c, min(u0 + u, TEXELS - 1u));
                }
            }
            for (uint u = 0; u < UNITS; u++) {
                da[u] += part[u];
            }
        }
        for (uint u = 0; u < UNITS; u++) {
            uint t = u0 + u;
            if (t >= TEXELS) {
                break;
            }
            vec4 sum = laneSum4(da[u]);
            uvec4 qs = min(uvec4(4u * t) + uvec4(0u, 1u, 2u, 3u), uvec4(HIDDEN - 1u));
            uint r = n * HIDDEN;
            vec4 s = vec4(fetch1(s14, r + qs.x), fetch1(s14, r + qs.y), fetch1(s14, r + qs.z), fetch1(s14, r + qs.w));
            vec4 sg = 1.0 / (1.0 + exp(-s));
            vec4 d = sum * sg * (1.0 + s * (1.0 - sg));
            // Units past Q are zero in the shared vector.
            d = mix(vec4(0.0), d, lessThan(uvec4(4u * t) + uvec4(0u, 1u, 2u, 3u), uvec4(HIDDEN)));
            if (lane < 4u && 4u * t + lane < HIDDEN) {
                ds1[r + 4u * t + lane] = d[lane];
            }
            if (lane == 0u) {
                hidden4[t] = d;
            }
        }
    }
    // The workgroup is one subgroup: a subgroup barrier orders the ds1
    // vector's shared stores before its loads.
    subgroupMemoryBarrierShared();
    subgroupBarrier();
    vec4 hv[TEXELS];
    for (uint t = 0; t < TEXELS; t++) {
        hv[t] = hidden4[t];
    }
    if (C_ALIGNED != 0u) {
        uint C4 = C >> 2;
        for (uint t0 = 0; t0 < C4; t0 += lanes) {
            uint t = min(t0 + lane, C4 - 1u);
            vec4 acc = vec4(0.0);
            for (uint tq = 0; tq < TEXELS; tq++) {
                for (uint k = 0; k < 4u; k++) {
                    if (4u * tq + k < HIDDEN) {
                        acc += hv[tq][k] * texelFetch(w14, int((4u * tq + k) * C4 + t));
                    }
                }
            }
            if (t0 + lane < C4) {
                for (uint k = 0; k < 4u; k++) {
                    dpooled[n * C + 4u * t + k] = acc[k];
                }
            }
        }
    } else {
        for (uint c0 = 0; c0 < C; c0 += lanes) {
            uint c = min(c0 + lane, C - 1u);
            float acc = 0.0;
            for (uint tq = 0; tq < TEXELS; tq++) {
                for (uint k = 0; k < 4u; k++) {
                    if (4u * tq + k < HIDDEN) {
                        acc += hv[tq][k] * fetch1(w14, (4u * tq + k) * C + c);
                    }
                }
            }
            if (c0 + lane < C) {
                dpooled[n * C + c] = acc;
            }
        }
    }
}

#elif defined(MLP_BACKWARD_PARAMS)
// Two weight gradients of the form dw[o,i] = sum_r dy[r,o] * x[r,i]
// (dw1: dy = ds1, x = pooled, Out = Q, In = C; dw2: dy = ds2, x = a1,
// Out = C, In = Q), each invocation a tile of OT rows o by four columns i,
// so that each x texel is fetched once per tile; the tiles of the first
// column also sum db[o] = sum_r dy[r,o].
#ifdef VEC4
layout(std430, binding = 0) writeonly buffer DW1 { vec4 dw1[]; };
layout(std430, binding = 2) writeonly buffer DW2 { vec4 dw2[]; };
#else
layout(std430, binding = 0) writeonly buffer DW1 { float dw1[]; };
layout(std430, binding = 2) writeonly buffer DW2 { float dw2[]; };
#endif
layout(std430, binding = 1) writeonly buffer DB1 { float db1[]; };
layout(std430, binding = 3) writeonly buffer DB2 { float db2[]; };
layout(binding = 4) uniform samplerBuffer ds14;
layout(binding = 5) uniform samplerBuffer ds24;
layout(binding = 6) uniform samplerBuffer pooled4;
layout(binding = 7) uniform samplerBuffer a14;

const uint OT = 4u; // output rows per tile

// weightTile sums the tile (o0.., four columns from 4*it) of dw and the
// tile's db over the batch; rows past Out reuse the last row (not written).
void weightTile(samplerBuffer dy4, samplerBuffer x4, uint inF, uint outF, uint o0, uint it,
                out vec4 acc[OT], out float bias[OT]) {
    uint os[OT];
    for (uint k = 0; k < OT; k++) {
        acc[k] = vec4(0.0);
        bias[k] = 0.0;
        os[k] = min(o0 + k, outF - 1u);
    }
    for (uint r = 0; r < pc.n; r++) {
#ifdef VEC4
        vec4 xv = texelFetch(x4, int(r * (inF >> 2) + it));
        vec4 gv = texelFetch(dy4, int((r * outF + o0) >> 2));
#else
        vec4 xv = vec4(0.0);
        for (uint j = 0; j < 4u; j++) {
            uint i = 4u * it + j;
            xv[j] = i < inF ? fetch1(x4, r * inF + i) : 0.0;
        }
        vec4 gv;
        for (uint k = 0; k < OT; k++) {
            gv[k] = fetch1(dy4, r * outF + os[k]);
        }
#endif
        for (uint k = 0; k < OT; k++) {
            acc[k] += gv[k] * xv;
            bias[k] += gv[k];
        }
    }
}

void main() {
    uint idx = linear_invocation();
    uint C = pc.c, Q = pc.q;
    uint per1 = (C + 3u) >> 2, per2 = (Q + 3u) >> 2;
    uint tiles1 = ((Q + OT - 1u) / OT) * per1;
    uint tiles2 = ((C + OT - 1u) / OT) * per2;
    bool first = idx < tiles1;
    if (!first) {
        idx -= tiles1;
        if (idx >= tiles2) {
            return;
        }
    }
    uint per = first ? per1 : per2;
    uint inF = first ? C : Q, outF = first ? Q : C;
    uint o0 = (idx / per) * OT, it = idx % per;
    vec4 acc[OT];
    float bias[OT];
    if (first) {
        weightTile(ds14, pooled4, inF, outF, o0, it, acc, bias);
    } else {
        weightTile(ds24, a14, inF, outF, o0, it, acc, bias);
    }
    for (uint k = 0; k < OT; k++) {
        uint o = o0 + k;
        if (o >= outF) {
            break;
        }
#ifdef VEC4
        if (first) {
            dw1[o * per + it] = acc[k];
        } else {
            dw2[o * per + it] = acc[k];
        }
#else
        for (uint j = 0; j < 4u; j++) {
            uint i = 4u * it + j;
            if (i < inF) {
                if (first) {
                    dw1[o * inF + i] = acc[k][j];
                } else {
                    dw2[o * inF + i] = acc[k][j];
                }
            }
        }
#endif
        if (it == 0u) {
            if (first) {
                db1[o] = bias[k];
            } else {
                db2[o] = bias[k];
            }
        }
    }
}
#endif
