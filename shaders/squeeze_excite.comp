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
#ifdef PRODUCT
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
#ifdef PRODUCT
        float s = fetch1(s4, row);
#endif
        for (uint t = (first >> 2) + lane; t < ((end + 3u) >> 2); t += LANES) {
            vec4 a = texelFetch(x4, int(t));
            uint base = t << 2;
#ifdef PRODUCT
            vec4 g = texelFetch(dy4, int(t));
#ifdef VEC4
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
    float s = fetch1(s4, base / pc.len) * pc.scale;
#ifdef SCALE
    y4[t] = texelFetch(x4, int(t)) * s;
#else
    y4[t] = vec4(s);
#endif
#else
#ifdef SCALE
    vec4 v = texelFetch(x4, int(t));
#endif
    for (uint k = 0; k < 4u; k++) {
        uint i = base + k;
        if (i < pc.n) {
            float s = fetch1(s4, i / pc.len) * pc.scale;
#ifdef SCALE
            y[i] = v[k] * s;
#else
            y[i] = s;
#endif
        }
    }
#endif
}

#elif defined(LINEAR_FORWARD)
// y[r,o] = b[o] + sum_i x[r,i] * w[o,i]; LANES invocations per output.
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

void main() {
    uint gid = linear_invocation();
    uint idx = gid / LANES;
    uint lane = gid % LANES;
    bool live = idx < pc.n * pc.out_features;
    float acc = 0.0;
    if (live) {
        uint r = idx / pc.out_features;
        uint o = idx % pc.out_features;
        uint xr = r * pc.in_features;
        uint wr = o * pc.in_features;
        if (ALIGNED != 0) {
            vec4 a4 = vec4(0.0);
            uint xt = xr >> 2, wt = wr >> 2;
            for (uint t = lane; t < (pc.in_features >> 2); t += LANES) {
                a4 += texelFetch(x4, int(xt + t)) * texelFetch(w4, int(wt + t));
            }
            acc = (a4.x + a4.y) + (a4.z + a4.w);
        } else {
            for (uint i = lane; i < pc.in_features; i += LANES) {
                acc += fetch1(x4, xr + i) * fetch1(w4, wr + i);
            }
        }
    }
    acc = laneSum(acc);
    if (live && lane == 0) {
#ifdef BIAS
        acc += fetch1(b4, idx % pc.out_features);
#endif
        y[idx] = acc;
    }
}

#elif defined(LINEAR_BACKWARD_DATA)
// dx[r,i] = sum_o dy[r,o] * w[o,i]; one invocation per dx element (four
// neighbouring elements in the _vec4 variant, In % 4 == 0), so that
// neighbouring invocations read neighbouring weights.
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

void main() {
    uint idx = linear_invocation();
#ifdef VEC4
    uint per = pc.in_features >> 2;
    if (idx >= pc.n * per) {
        return;
    }
    uint r = idx / per;
    uint it = idx % per;
    vec4 acc = vec4(0.0);
    for (uint o = 0; o < pc.out_features; o++) {
        acc += fetch1(dy4, r * pc.out_features + o) * texelFetch(w4, int(o * per + it));
    }
    dx4[idx] = acc;
#else
    if (idx >= pc.n * pc.in_features) {
        return;
    }
    uint r = idx / pc.in_features;
    uint i = idx % pc.in_features;
    float acc = 0.0;
    for (uint o = 0; o < pc.out_features; o++) {
        acc += fetch1(dy4, r * pc.out_features + o) * fetch1(w4, o * pc.in_features + i);
    }
    dx[idx] = acc;
#endif
}

#elif defined(LINEAR_BACKWARD_WEIGHT)
// dw[o,i] = sum_r dy[r,o] * x[r,i]; the _vec4 variant (In % 4 == 0) computes
// four neighbouring i per invocation.
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

void main() {
    uint idx = linear_invocation();
#ifdef VEC4
    uint per = pc.in_features >> 2;
    if (idx >= pc.out_features * per) {
        return;
    }
    uint o = idx / per;
    uint it = idx % per;
    vec4 acc = vec4(0.0);
    for (uint r = 0; r < pc.n; r++) {
        acc += fetch1(dy4, r * pc.out_features + o) * texelFetch(x4, int(r * per + it));
    }
    dw4[idx] = acc;
#else
    if (idx >= pc.out_features * pc.in_features) {
        return;
    }
    uint o = idx / pc.in_features;
    uint i = idx % pc.in_features;
    float acc = 0.0;
    for (uint r = 0; r < pc.n; r++) {
        acc += fetch1(dy4, r * pc.out_features + o) * fetch1(x4, r * pc.in_features + i);
    }
    dw[idx] = acc;
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
