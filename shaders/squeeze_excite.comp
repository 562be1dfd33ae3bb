#version 450
// Squeeze-excite pieces and the fully connected layer (SE FCs and the
// classifier head):
//   global average pool  y[n,c] = mean_{h,w} x[n,c,h,w], and its gradient;
//   channel scale        y[n,c,h,w] = x[n,c,h,w] * s[n,c], and its gradient
//                        (dx and ds in one pass, ds summed over H*W in a
//                        fixed order);
//   linear               y[n,o] = b[o] + sum_i x[n,i] * w[o,i], and its
//                        gradients (dx, dw, db).
// Rows (one (n,c) plane, or one dot product) are reduced by LANES consecutive
// invocations of one subgroup (specialization constant 1, a power of two no
// larger than the subgroup), each summing a strided share, combined with
// subgroupShuffleXor: the order is fixed, so results are bitwise
// reproducible. Inputs are read through RGBA32F texel views (four floats per
// fetch); the _vec4 variants write four floats at once when rows are whole
// texels.
//! kernel global_avg_pool_forward ROW_REDUCE
//! kernel channel_scale_backward ROW_REDUCE PRODUCT
//! kernel channel_scale_backward_vec4 ROW_REDUCE PRODUCT VEC4
//! kernel global_avg_pool_backward BROADCAST
//! kernel global_avg_pool_backward_vec4 BROADCAST VEC4
//! kernel channel_scale_forward SCALE
//! kernel channel_scale_forward_vec4 SCALE VEC4
//! kernel linear_forward LINEAR_FORWARD
//! kernel linear_forward_bias LINEAR_FORWARD BIAS
//! kernel linear_backward_data LINEAR_BACKWARD_DATA
//! kernel linear_backward_data_vec4 LINEAR_BACKWARD_DATA VEC4
//! kernel linear_backward_weight LINEAR_BACKWARD_WEIGHT
//! kernel linear_backward_weight_vec4 LINEAR_BACKWARD_WEIGHT VEC4
//! kernel linear_backward_bias LINEAR_BACKWARD_BIAS
//! kernel channel_scale_backward_gate ROW_REDUCE PRODUCT GATE_ONLY
//! kernel channel_scale_backward_gate_vec4 ROW_REDUCE PRODUCT GATE_ONLY VEC4
//! kernel squeeze_excite_backward_data SCALE POOL_GRAD
//! kernel squeeze_excite_backward_data_vec4 SCALE POOL_GRAD VEC4
// The squeeze-excite backward pass in two passes instead of four:
// channel_scale_backward_gate writes only ds (no dx), and
// squeeze_excite_backward_data both paths of dx at once,
// dx = dy * s[row] + dpooled[row] * scale (the channel scale's gradient
// plus the pool's, scale = 1/(H*W)).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0) in;
layout(constant_id = 1) const uint LANES = 1;   // invocations per row (power of two)
layout(constant_id = 2) const uint ALIGNED = 0; // linear_forward: In % 4 == 0

// fetch1 reads element i of a tensor viewed as RGBA32F texels.
#define fetch1(buf, i) texelFetch(buf, int((i) >> 2))[(i) & 3u]

// laneSum adds v over the LANES invocations of a row (uniform control flow).
float laneSum(float v) {
    for (uint m = LANES >> 1; m > 0; m >>= 1) {
        v += subgroupShuffleXor(v, m);
    }
    return v;
}

#if defined(ROW_REDUCE)
// Per row r of length len (an (n,c) plane): global_avg_pool_forward writes
// y[r] = scale * sum x; channel_scale_backward writes ds[r] = sum dy*x and
// dx = dy * s[r].
layout(push_constant) uniform Push {
    uint rows;
    uint len;
    float scale;
} pc;
#if defined(PRODUCT) && defined(GATE_ONLY)
// ds only: no dx, no s.
layout(std430, binding = 0) writeonly buffer DS { float ds[]; };
layout(binding = 1) uniform samplerBuffer dy4;
layout(binding = 2) uniform samplerBuffer x4;
#elif defined(PRODUCT)
#ifdef VEC4
layout(std430, binding = 0) writeonly buffer DX { vec4 dx4[]; };
#else
layout(std430, binding = 0) writeonly buffer DX { float dx[]; };
#endif
layout(std430, binding = 1) writeonly buffer DS { float ds[]; };
layout(binding = 2) uniform samplerBuffer dy4;
layout(binding = 3) uniform samplerBuffer x4;
layout(binding = 4) uniform samplerBuffer s4;
#else
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(binding = 1) uniform samplerBuffer x4;
#endif

void main() {
    uint gid = linear_invocation();
    uint row = gid / LANES;
    uint lane = gid % LANES;
    bool live = row < pc.rows;
    float acc = 0.0;
    if (live) {
        uint first = row * pc.len;
        uint end = first + pc.len;
#if defined(PRODUCT) && !defined(GATE_ONLY)
        float s = fetch1(s4, row);
#endif
        for (uint t = (first >> 2) + lane; t < ((end + 3u) >> 2); t += LANES) {
            vec4 a = texelFetch(x4, int(t));
            uint base = t << 2;
#ifdef PRODUCT
            vec4 g = texelFetch(dy4, int(t));
#ifdef GATE_ONLY
#elif defined(VEC4)
            dx4[t] = g * s;
#else
            for (uint k = 0; k < 4u; k++) {
                if (base + k >= first && base + k < end) {
                    dx[base + k] = g[k] * s;
                }
            }
#endif
            a *= g;
#endif
            if (base < first || base + 4u > end) {
                for (uint k = 0; k < 4u; k++) {
                    if (base + k < first || base + k >= end) {
                        a[k] = 0.0;
                    }
                }
            }
            acc += (a.x + a.y) + (a.z + a.w);
        }
    }
    acc = laneSum(acc);
    if (live && lane == 0) {
#ifdef PRODUCT
        ds[row] = acc;
#else
        y[row] = acc * pc.scale;
#endif
    }
}

#elif defined(BROADCAST) || defined(SCALE)
// One texel (four elements) per invocation: global_avg_pool_backward writes
// dx[i] = scale * dy[i / len]; channel_scale_forward y[i] = x[i] * s[i / len].
// The _vec4 variants need len % 4 == 0 (every texel within one row).
layout(push_constant) uniform Push {
    uint n;
    uint len;
    float scale;
} pc;
#ifdef VEC4
layout(std430, binding = 0) writeonly buffer Y { vec4 y4[]; };
#else
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
#endif
#ifdef SCALE
layout(binding = 1) uniform samplerBuffer x4;
layout(binding = 2) uniform samplerBuffer s4;
#ifdef POOL_GRAD
layout(binding = 3) uniform samplerBuffer pooled4; // dpooled [rows]
// POOL_SUM(v, row) is v * s[row] plus the pool's gradient.
#define POOL_SUM(v, row) ((v) * fetch1(s4, row) + fetch1(pooled4, row) * pc.scale)
#endif
#else
layout(binding = 1) uniform samplerBuffer s4; // dy [rows]
#endif

void main() {
    uint t = linear_invocation();
    uint base = t << 2;
    if (base >= pc.n) {
        return;
    }
#ifdef VEC4
#ifdef POOL_GRAD
    y4[t] = POOL_SUM(texelFetch(x4, int(t)), base / pc.len);
#else
    float s = fetch1(s4, base / pc.len) * pc.scale;
#ifdef SCALE
    y4[t] = texelFetch(x4, int(t)) * s;
#else
    y4[t] = vec4(s);
#endif
#endif
#else
#ifdef SCALE
    vec4 v = texelFetch(x4, int(t));
#endif
    for (uint k = 0; k < 4u; k++) {
        uint i = base + k;
        if (i < pc.n) {
#ifdef POOL_GRAD
            y[i] = POOL_SUM(v[k], i / pc.len);
#else
            float s = fetch1(s4, i / pc.len) * pc.scale;
#ifdef SCALE
            y[i] = v[k] * s;
#else
            y[i] = s;
#endif
#endif
        }
    }
#endif
}

#elif defined(LINEAR_FORWARD)
// y[r,o] = b[o] + sum_i x[r,i] * w[o,i]. LANES invocations share one output
// column o for a tile of RT batch rows: each weight texel is fetched once per
// tile (not once per row), neighbouring lanes read neighbouring texels, and
// the RT dot products are combined across the lanes in a fixed order.
layout(push_constant) uniform Push {
    uint n;
    uint in_features;
    uint out_features;
} pc;
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(binding = 1) uniform samplerBuffer x4;
layout(binding = 2) uniform samplerBuffer w4;
#ifdef BIAS
layout(binding = 3) uniform samplerBuffer b4;
#endif

const uint RT = 4u; // batch rows per tile

void main() {
    uint gid = linear_invocation();
    uint idx = gid / LANES;
    uint lane = gid % LANES;
    uint tiles = (pc.n + RT - 1u) / RT;
    bool live = idx < tiles * pc.out_features;
    float acc[RT];
    for (uint k = 0; k < RT; k++) {
        acc[k] = 0.0;
    }
    uint r0 = 0, o = 0;
    if (live) {
        r0 = (idx / pc.out_features) * RT;
        o = idx % pc.out_features;
        // Rows past the batch reuse its last row; their sums are not written.
        uint xr[RT];
        for (uint k = 0; k < RT; k++) {
            xr[k] = min(r0 + k, pc.n - 1u) * pc.in_features;
        }
        uint wr = o * pc.in_features;
        if (ALIGNED != 0) {
            vec4 a4[RT];
            for (uint k = 0; k < RT; k++) {
                a4[k] = vec4(0.0);
            }
            uint wt = wr >> 2;
            for (uint t = lane; t < (pc.in_features >> 2); t += LANES) {
                vec4 wv = texelFetch(w4, int(wt + t));
                for (uint k = 0; k < RT; k++) {
                    a4[k] += texelFetch(x4, int((xr[k] >> 2) + t)) * wv;
                }
            }
            for (uint k = 0; k < RT; k++) {
                acc[k] = (a4[k].x + a4[k].y) + (a4[k].z + a4[k].w);
            }
        } else {
            for (uint i = lane; i < pc.in_features; i += LANES) {
                float wv = fetch1(w4, wr + i);
                for (uint k = 0; k < RT; k++) {
                    acc[k] += fetch1(x4, xr[k] + i) * wv;
                }
            }
        }
    }
    for (uint k = 0; k < RT; k++) {
        acc[k] = laneSum(acc[k]);
    }
    if (live && lane == 0) {
#ifdef BIAS
        float bias = fetch1(b4, o);
#else
        float bias = 0.0;
#endif
        for (uint k = 0; k < RT; k++) {
            if (r0 + k < pc.n) {
                y[(r0 + k) * pc.out_features + o] = acc[k] + bias;
            }
        }
    }
}

#elif defined(LINEAR_BACKWARD_DATA)
// dx[r,i] = sum_o dy[r,o] * w[o,i]; one invocation per dx element (four
// neighbouring elements in the _vec4 variant, In % 4 == 0) for a tile of RT
// batch rows, so that neighbouring invocations read neighbouring weights and
// each weight is fetched once per tile.
layout(push_constant) uniform Push {
    uint n;
    uint in_features;
    uint out_features;
} pc;
#ifdef VEC4
layout(std430, binding = 0) writeonly buffer DX { vec4 dx4[]; };
#else
layout(std430, binding = 0) writeonly buffer DX { float dx[]; };
#endif
layout(binding = 1) uniform samplerBuffer dy4;
layout(binding = 2) uniform samplerBuffer w4;

const uint RT = 4u; // batch rows per tile

void main() {
    uint idx = linear_invocation();
#ifdef VEC4
    uint per = pc.in_features >> 2;
#else
    uint per = pc.in_features;
#endif
    uint tiles = (pc.n + RT - 1u) / RT;
    if (idx >= tiles * per) {
        return;
    }
    uint r0 = (idx / per) * RT;
    uint it = idx % per;
    uint dyr[RT];
    for (uint k = 0; k < RT; k++) {
        dyr[k] = min(r0 + k, pc.n - 1u) * pc.out_features;
    }
#ifdef VEC4
    vec4 acc[RT];
    for (uint k = 0; k < RT; k++) {
        acc[k] = vec4(0.0);
    }
    uint o = 0;
    if ((pc.out_features & 3u) == 0) {
        // dy rows are whole texels: four outputs per dy fetch, added in
        // the same order as the loop below.
        for (; o < pc.out_features; o += 4u) {
            vec4 w0 = texelFetch(w4, int(o * per + it));
            vec4 w1 = texelFetch(w4, int((o + 1u) * per + it));
            vec4 w2 = texelFetch(w4, int((o + 2u) * per + it));
            vec4 w3 = texelFetch(w4, int((o + 3u) * per + it));
            for (uint k = 0; k < RT; k++) {
                vec4 g = texelFetch(dy4, int((dyr[k] + o) >> 2));
                acc[k] += g.x * w0;
                acc[k] += g.y * w1;
                acc[k] += g.z * w2;
                acc[k] += g.w * w3;
            }
        }
    }
    for (; o < pc.out_features; o++) {
        vec4 wv = texelFetch(w4, int(o * per + it));
        for (uint k = 0; k < RT; k++) {
            acc[k] += fetch1(dy4, dyr[k] + o) * wv;
        }
    }
    for (uint k = 0; k < RT; k++) {
        if (r0 + k < pc.n) {
            dx4[(r0 + k) * per + it] = acc[k];
        }
    }
#else
    float acc[RT];
    for (uint k = 0; k < RT; k++) {
        acc[k] = 0.0;
    }
    for (uint o = 0; o < pc.out_features; o++) {
        float wv = fetch1(w4, o * per + it);
        for (uint k = 0; k < RT; k++) {
            acc[k] += fetch1(dy4, dyr[k] + o) * wv;
        }
    }
    for (uint k = 0; k < RT; k++) {
        if (r0 + k < pc.n) {
            dx[(r0 + k) * per + it] = acc[k];
        }
    }
#endif
}

#elif defined(LINEAR_BACKWARD_WEIGHT)
// dw[o,i] = sum_r dy[r,o] * x[r,i]; one invocation per dw element (four
// neighbouring i in the _vec4 variant, In % 4 == 0) for a tile of OT output
// rows, so that each x texel is fetched once per tile.
layout(push_constant) uniform Push {
    uint n;
    uint in_features;
    uint out_features;
} pc;
#ifdef VEC4
layout(std430, binding = 0) writeonly buffer DW { vec4 dw4[]; };
#else
layout(std430, binding = 0) writeonly buffer DW { float dw[]; };
#endif
layout(binding = 1) uniform samplerBuffer dy4;
layout(binding = 2) uniform samplerBuffer x4;

const uint OT = 4u; // output rows per tile

void main() {
    uint idx = linear_invocation();
#ifdef VEC4
    uint per = pc.in_features >> 2;
#else
    uint per = pc.in_features;
#endif
    uint tiles = (pc.out_features + OT - 1u) / OT;
    if (idx >= tiles * per) {
        return;
    }
    uint o0 = (idx / per) * OT;
    uint it = idx % per;
    // Output rows past the last reuse it; their sums are not written.
    uint os[OT];
    for (uint k = 0; k < OT; k++) {
        os[k] = min(o0 + k, pc.out_features - 1u);
    }
#ifdef VEC4
    vec4 acc[OT];
    for (uint k = 0; k < OT; k++) {
        acc[k] = vec4(0.0);
    }
    if ((pc.out_features & 3u) == 0) {
        // The tile's four dy values of a row are one texel.
        for (uint r = 0; r < pc.n; r++) {
            vec4 xv = texelFetch(x4, int(r * per + it));
            vec4 g = texelFetch(dy4, int((r * pc.out_features + o0) >> 2));
            for (uint k = 0; k < OT; k++) {
                acc[k] += g[k] * xv;
            }
        }
    } else {
        for (uint r = 0; r < pc.n; r++) {
            vec4 xv = texelFetch(x4, int(r * per + it));
            for (uint k = 0; k < OT; k++) {
                acc[k] += fetch1(dy4, r * pc.out_features + os[k]) * xv;
            }
        }
    }
    for (uint k = 0; k < OT; k++) {
        if (o0 + k < pc.out_features) {
            dw4[(o0 + k) * per + it] = acc[k];
        }
    }
#else
    float acc[OT];
    for (uint k = 0; k < OT; k++) {
        acc[k] = 0.0;
    }
    for (uint r = 0; r < pc.n; r++) {
        float xv = fetch1(x4, r * per + it);
        for (uint k = 0; k < OT; k++) {
            acc[k] += fetch1(dy4, r * pc.out_features + os[k]) * xv;
        }
    }
    for (uint k = 0; k < OT; k++) {
        if (o0 + k < pc.out_features) {
            dw[(o0 + k) * per + it] = acc[k];
        }
    }
#endif
}

#elif defined(LINEAR_BACKWARD_BIAS)
// db[o] = sum_r dy[r,o].
layout(push_constant) uniform Push {
    uint n;
    uint out_features;
} pc;
layout(std430, binding = 0) writeonly buffer DB { float db[]; };
layout(binding = 1) uniform samplerBuffer dy4;

void main() {
    uint o = linear_invocation();
    if (o >= pc.out_features) {
        return;
    }
    float acc = 0.0;
    for (uint r = 0; r < pc.n; r++) {
        acc += fetch1(dy4, r * pc.out_features + o);
    }
    db[o] = acc;
}
#endif
