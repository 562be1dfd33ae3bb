#version 450
// Batch normalization 2-D (NCHW, statistics per channel over N*H*W values),
// PyTorch semantics, with an optional fused SiLU after the affine transform.
//
// Kernels:
//   batchnorm_stats          one workgroup per channel: mean and
//                            invstd = 1/sqrt(biased var + eps). Values are
//                            shifted by the channel's first value. Each lane
//                            reads batches of 4 slots into registers, takes
//                            their mean and centered sum of squares (two
//                            passes over registers), and merges batches with
//                            Chan's formula; lanes then merge in a fixed
//                            shared-memory tree. No E[x^2]-E[x]^2, no atomics.
//   batchnorm_forward        one vec4 per invocation:
//                            y = act(gamma*(x-mean)*invstd + beta).
//   batchnorm_train_forward  batchnorm_stats and batchnorm_forward in one
//                            dispatch, one workgroup per channel: the
//                            statistics as batchnorm_stats computes them
//                            (same code, same bits), then the channel's
//                            values read again, while they are still in
//                            the cache, and normalized. Saves a dispatch
//                            and a pass from memory; every lane's loads and
//                            stores are contiguous and the channel's
//                            parameters uniform. For channels that fit the
//                            cache (ops chooses).
//   batchnorm_backward       one workgroup per channel: pass 1 sums dz and
//                            dz*xhat (dz = dy, or dy*SiLU'(z) with z the BN
//                            output recomputed), pass 2 writes
//                            dx = gamma*invstd*(dz - mean(dz) - xhat*mean(dz*xhat)).
//
// The per-channel loops of the aligned case load BATCH (4) slots per lane
// before they compute and store: on lavapipe (2026-11, `effv2vk bench ops
// --only bn`, CPU time of 200 runs) that made the fused training forward
// on [8,768,16,16] ~1.4x faster than one slot per round, and the backward
// on [8,96,64,64] with SiLU ~1.1x.
//   batchnorm_update_running one invocation per channel: running mean/var
//                            update (var recovered from invstd and eps).
//   batchnorm_eval_params    one invocation per channel: mean = runMean,
//                            invstd = 1/sqrt(runVar + eps).
//
// Per-channel kernels walk the channel in "slots" of four values. When H*W is
// a multiple of 4 ("aligned") a slot is one texel of x; otherwise the four
// values of a slot are gathered one by one (they may straddle two images).
//
//! kernel batchnorm_stats STATS
//! kernel batchnorm_forward FORWARD
//! kernel batchnorm_backward BACKWARD
//! kernel batchnorm_update_running UPDATE
//! kernel batchnorm_eval_params EVAL_PARAMS
//! kernel batchnorm_forward_residual FORWARD RESIDUAL
//! kernel batchnorm_train_forward TRAIN_FORWARD
//! kernel batchnorm_train_forward_residual TRAIN_FORWARD RESIDUAL
//! kernel batchnorm_stats_update STATS UPDATE_RUNNING
//! kernel batchnorm_train_forward_update TRAIN_FORWARD UPDATE_RUNNING
//! kernel batchnorm_train_forward_residual_update TRAIN_FORWARD RESIDUAL UPDATE_RUNNING
//
// The _update variants also do batchnorm_update_running's work for the
// channel they finalize: the workgroup's first lane updates the running
// mean and variance from the mean and invstd it has just written, with the
// same float32 formula (runningUpdate), saving a dispatch per batch norm.
// batchnorm_forward_residual adds a residual r (x's shape) after the
// activation: y = act(gamma*(x-mean)*invstd + beta) + r (the last unit of a
// residual block, whose sum needs no pass of its own);
// batchnorm_train_forward_residual likewise after the statistics.
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

// Activation codes, as in ops.Activation.
#define ACT_NONE 0u
#define ACT_SILU 1u

// act is the fused activation (ACT_NONE or ACT_SILU), fixed when the
// pipeline is built.
layout(constant_id = 1) const uint act = 0u;

// aligned is 1 when H*W is a multiple of 4 (every texel lies in one
// channel), fixed when the pipeline is built so that the other path is
// compiled out (SIMD drivers may otherwise run both sides of the branch).
layout(constant_id = 3) const uint aligned = 0u;

float sigmoid1(float z) {
    return 1.0 / (1.0 + exp(-z));
}

vec4 sigmoid4(vec4 z) {
    return 1.0 / (1.0 + exp(-z));
}

// pick returns v[k] through selects: a dynamic component index would become
// a per-lane memory access on SIMD drivers.
float pick(vec4 v, uint k) {
    return k < 2u ? (k == 0u ? v.x : v.y) : (k == 2u ? v.z : v.w);
}

// channelValue is the value of channel ch of a [C] tensor.
float channelValue(samplerBuffer t, uint ch) {
    return pick(texelFetch(t, int(ch >> 2)), ch & 3u);
}

vec4 activate(vec4 z) {
    if (act == ACT_SILU) {
        return z * sigmoid4(z);
    }
    return z;
}

float activate1(float z) {
    if (act == ACT_SILU) {
        return z * sigmoid1(z);
    }
    return z;
}

// runningUpdate is the running-statistics update of one channel from its
// batch mean mu and invstd is (PyTorch's convention, var recovered from
// invstd and eps): batchnorm_update_running and the _update variants share
// it, so that both write the same bits.
void runningUpdate(inout float runM, inout float runV, float mu, float is, float eps, float momentum, float correction) {
    float biasedVar = max(1.0 / (is * is) - eps, 0.0);
    runM = (1.0 - momentum) * runM + momentum * mu;
    runV = (1.0 - momentum) * runV + momentum * biasedVar * correction;
}

#if defined(STATS) || defined(BACKWARD) || defined(TRAIN_FORWARD)
// Slots each lane loads before it computes, in the per-channel loops.
#define BATCH 4u

// One workgroup per channel; the local size is a specialization constant
// (a power of two): 8 (one subgroup) suits lavapipe, 256 suits GPUs.
layout(local_size_x = 256, local_size_x_id = 0) in;

layout(push_constant) uniform Push {
    uint n;         // batch N
    uint c;         // channels C
    uint hw;        // H*W
    uint m;         // N*H*W, values per channel
    uint slots;     // slots of 4 values per channel: ceil(m/4)
    uint div;       // hw/4 when aligned, else hw
    float invDiv;   // 1/div
    float eps;      // stats only
#ifdef UPDATE_RUNNING
    float momentum;    // as batchnorm_update_running's
    float correction;
#endif
} pc;

layout(binding = 0) uniform samplerBuffer x4;

// Cursor walks one lane's slots q = lid, lid+ls, lid+2*ls, ... of channel
// ch. When aligned it also tracks the slot's texel, image by image, so that
// no division is needed per slot: texel = base + s, s = q mod (hw/4).
struct Cursor {
    uint q;     // slot index in the channel
    uint s;     // aligned: texel offset inside the current image
    uint base;  // aligned: first texel of channel ch in the current image
};

void cursorAdvance(inout Cursor cur, uint step) {
    cur.q += step;
    if (aligned != 0u) {
        cur.s += step;
        if (cur.s >= pc.div) { // into a later image: rare, no loop
            uint wraps = divu(cur.s, pc.div, pc.invDiv);
            cur.s -= wraps * pc.div;
            cur.base += wraps * pc.c * pc.div;
        }
    }
}

Cursor cursorStart(uint ch, uint lid) {
    Cursor cur = Cursor(0u, 0u, ch * pc.div);
    cursorAdvance(cur, lid);
    return cur;
}

// slotValues loads the cursor's slot of channel ch (0 past the end) and
// sets valid to 1 for each of its values that exists.
vec4 slotValues(samplerBuffer t, Cursor cur, uint ch, out vec4 valid) {
    if (aligned != 0u) {
        // Branch-free: a slot past the end fetches the channel's first
        // texel and is masked.
        bool inside = cur.q < pc.slots;
        valid = vec4(inside ? 1.0 : 0.0);
        return texelFetch(t, int(inside ? cur.base + cur.s : ch * pc.div)) * valid;
    }
    vec4 v = vec4(0.0);
    valid = vec4(0.0);
    [[unroll]] for (uint k = 0u; k < 4u; k++) {
        uint j = 4u * cur.q + k;
        if (j < pc.m) {
            uint img = divu(j, pc.div, pc.invDiv);
            uint e = (img * pc.c + ch) * pc.div + (j - img * pc.div);
            v[k] = pick(texelFetch(t, int(e >> 2)), e & 3u);
            valid[k] = 1.0;
        }
    }
    return v;
}
#endif

#if defined(STATS) || defined(TRAIN_FORWARD)
// Per-lane partial statistics: count, mean, centered sum of squares.
shared float sCount[gl_WorkGroupSize.x];
shared float sMean[gl_WorkGroupSize.x];
shared float sM2[gl_WorkGroupSize.x];

// chan merges (nb, mb, m2b) into (na, ma, m2a) (Chan et al. 1979).
void chan(inout float na, inout float ma, inout float m2a, float nb, float mb, float m2b) {
    float n = na + nb;
    if (nb == 0.0) {
        return;
    }
    float d = mb - ma;
    float f = nb / n;
    ma += d * f;
    m2a += m2b + d * d * na * f;
    na = n;
}

// channelStats returns channel ch's mean and invstd to every lane of the
// workgroup (called by all of them, in uniform control flow).
void channelStats(uint ch, uint lid, out float chMean, out float chInvstd) {
    uint ls = gl_WorkGroupSize.x;
    // Shift every value by the channel's first one, so that means near a
    // large offset (x = 1000 + noise) keep their digits through the merges.
    vec4 ok0;
    float shift = slotValues(x4, cursorStart(ch, 0u), ch, ok0).x;
    float cnt = 0.0, mu = 0.0, m2 = 0.0;
    Cursor cur = cursorStart(ch, lid);
    for (uint base = 0u; base < pc.slots; base += ls * BATCH) {
        vec4 v[BATCH];
        vec4 ok[BATCH];
        vec4 sum = vec4(0.0), num = vec4(0.0);
        [[unroll]] for (uint i = 0u; i < BATCH; i++) {
            v[i] = (slotValues(x4, cur, ch, ok[i]) - shift) * ok[i];
            cursorAdvance(cur, ls);
            sum += v[i];
            num += ok[i];
        }
        float bn = num.x + num.y + num.z + num.w;
        if (bn > 0.0) {
            float bm = (sum.x + sum.y + sum.z + sum.w) / bn;
            vec4 sq = vec4(0.0);
            [[unroll]] for (uint i = 0u; i < BATCH; i++) {
                vec4 d = (v[i] - bm) * ok[i];
                sq += d * d;
            }
            chan(cnt, mu, m2, bn, bm, sq.x + sq.y + sq.z + sq.w);
        }
    }
    sCount[lid] = cnt;
    sMean[lid] = mu;
    sM2[lid] = m2;
    barrier();
    for (uint s = ls / 2u; s > 0u; s >>= 1) {
        if (lid < s) {
            float na = sCount[lid], ma = sMean[lid], m2a = sM2[lid];
            chan(na, ma, m2a, sCount[lid + s], sMean[lid + s], sM2[lid + s]);
            sCount[lid] = na;
            sMean[lid] = ma;
            sM2[lid] = m2a;
        }
        barrier();
    }
    float var = sM2[0] / sCount[0];
    chMean = shift + sMean[0];
    chInvstd = 1.0 / sqrt(var + pc.eps);
}
#endif

#ifdef UPDATE_RUNNING
// The running statistics, after the kernel's own bindings (RUN_BINDING).
#if defined(STATS)
#define RUN_BINDING 3
#elif defined(RESIDUAL)
#define RUN_BINDING 8
#else
#define RUN_BINDING 7
#endif
layout(std430, binding = RUN_BINDING) buffer RunMean { float runMean[]; };
layout(std430, binding = RUN_BINDING + 1) buffer RunVar { float runVar[]; };

// updateChannel updates channel ch's running statistics (lane 0 only).
void updateChannel(uint ch, float mu, float is) {
    float rm = runMean[ch], rv = runVar[ch];
    runningUpdate(rm, rv, mu, is, pc.eps, pc.momentum, pc.correction);
    runMean[ch] = rm;
    runVar[ch] = rv;
}
#define UPDATE_CHANNEL(ch, mu, is) updateChannel(ch, mu, is)
#else
#define UPDATE_CHANNEL(ch, mu, is)
#endif

#ifdef STATS
layout(std430, binding = 1) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 2) writeonly buffer InvStd { float invstd[]; };

void main() {
    uint ch = linear_group();
    uint lid = gl_LocalInvocationID.x;
    float mu, is;
    channelStats(ch, lid, mu, is);
    if (lid == 0u) {
        mean[ch] = mu;
        invstd[ch] = is;
        UPDATE_CHANNEL(ch, mu, is);
    }
}
#endif

#ifdef TRAIN_FORWARD
layout(binding = 1) uniform samplerBuffer gamma4;
layout(binding = 2) uniform samplerBuffer beta4;
layout(std430, binding = 3) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 4) writeonly buffer InvStd { float invstd[]; };
layout(std430, binding = 5) writeonly buffer Y4 { vec4 yv[]; };
layout(std430, binding = 6) writeonly buffer Y1 { float ys[]; };
#ifdef RESIDUAL
layout(binding = 7) uniform samplerBuffer residual4;
#endif

void main() {
    uint ch = linear_group();
    uint lid = gl_LocalInvocationID.x;
    uint ls = gl_WorkGroupSize.x;
    float mu, is;
    channelStats(ch, lid, mu, is);
    if (lid == 0u) {
        mean[ch] = mu;
        invstd[ch] = is;
        UPDATE_CHANNEL(ch, mu, is);
    }
    // As batchnorm_forward: y = act((x - mean) * (gamma*invstd) + beta).
    float sc = channelValue(gamma4, ch) * is;
    float sh = channelValue(beta4, ch);
    Cursor cur = cursorStart(ch, lid);
    if (aligned != 0u) {
        // BATCH slots per round: their loads first, then the stores.
        for (uint base = 0u; base < pc.slots; base += ls * BATCH) {
            uint texel[BATCH];
            bool inside[BATCH];
            vec4 v[BATCH];
            [[unroll]] for (uint i = 0u; i < BATCH; i++) {
                inside[i] = cur.q < pc.slots;
                texel[i] = inside[i] ? cur.base + cur.s : ch * pc.div;
                v[i] = texelFetch(x4, int(texel[i]));
                cursorAdvance(cur, ls);
            }
            [[unroll]] for (uint i = 0u; i < BATCH; i++) {
                vec4 y = activate((v[i] - mu) * sc + sh);
#ifdef RESIDUAL
                y += texelFetch(residual4, int(texel[i]));
#endif
                if (inside[i]) {
                    yv[texel[i]] = y;
                }
            }
        }
        return;
    }
    uint rounds = (pc.slots + ls - 1u) / ls; // uniform trip count
    for (uint it = 0u; it < rounds; it++, cursorAdvance(cur, ls)) {
        uint q = cur.q;
        [[unroll]] for (uint kk = 0u; kk < 4u; kk++) {
            uint j = 4u * q + kk;
            if (j < pc.m) {
                uint img = divu(j, pc.div, pc.invDiv);
                uint e = (img * pc.c + ch) * pc.div + (j - img * pc.div);
                float y = activate1((pick(texelFetch(x4, int(e >> 2)), e & 3u) - mu) * sc + sh);
#ifdef RESIDUAL
                y += pick(texelFetch(residual4, int(e >> 2)), e & 3u);
#endif
                ys[e] = y;
            }
        }
    }
}
#endif

#ifdef BACKWARD
layout(binding = 1) uniform samplerBuffer dy4;
layout(binding = 2) uniform samplerBuffer mean4;
layout(binding = 3) uniform samplerBuffer invstd4;
layout(binding = 4) uniform samplerBuffer gamma4;
layout(binding = 5) uniform samplerBuffer beta4;
layout(std430, binding = 6) writeonly buffer DX4 { vec4 dxv[]; };
layout(std430, binding = 7) writeonly buffer DX1 { float dxs[]; };
layout(std430, binding = 8) writeonly buffer DGamma { float dgamma[]; };
layout(std430, binding = 9) writeonly buffer DBeta { float dbeta[]; };

shared float sSumDz[gl_WorkGroupSize.x];
shared float sSumDzXhat[gl_WorkGroupSize.x];

void main() {
    uint ch = linear_group();
    uint lid = gl_LocalInvocationID.x;
    uint ls = gl_WorkGroupSize.x;
    float mu = channelValue(mean4, ch);
    float is = channelValue(invstd4, ch);
    float g = channelValue(gamma4, ch);
    float b = channelValue(beta4, ch);

    // Pass 1: per-lane sums of dz and dz*xhat, then a fixed tree.
    vec4 sumDz = vec4(0.0), sumDzXhat = vec4(0.0);
    uint rounds = (pc.slots + ls - 1u) / ls; // uniform trip count
    Cursor cur = cursorStart(ch, lid);
    if (aligned != 0u) {
        // BATCH slots per round, their loads first; a slot past the end
        // fetches the channel's first texel and adds zeros.
        for (uint base = 0u; base < pc.slots; base += ls * BATCH) {
            vec4 xv[BATCH], dyv[BATCH];
            float ok[BATCH];
            [[unroll]] for (uint i = 0u; i < BATCH; i++) {
                bool inside = cur.q < pc.slots;
                uint texel = inside ? cur.base + cur.s : ch * pc.div;
                ok[i] = inside ? 1.0 : 0.0;
                xv[i] = texelFetch(x4, int(texel));
                dyv[i] = texelFetch(dy4, int(texel));
                cursorAdvance(cur, ls);
            }
            [[unroll]] for (uint i = 0u; i < BATCH; i++) {
                vec4 xhat = (xv[i] - mu) * is;
                vec4 dz = dyv[i];
                if (act == ACT_SILU) {
                    vec4 z = g * xhat + b;
                    vec4 sg = sigmoid4(z);
                    dz *= sg * (1.0 + z * (1.0 - sg));
                }
                dz *= ok[i];
                sumDz += dz;
                sumDzXhat += dz * xhat;
            }
        }
    } else {
        for (uint it = 0u; it < rounds; it++, cursorAdvance(cur, ls)) {
            vec4 ok, ok2;
            vec4 xv = slotValues(x4, cur, ch, ok);
            vec4 dz = slotValues(dy4, cur, ch, ok2);
            vec4 xhat = (xv - mu) * is;
            if (act == ACT_SILU) {
                vec4 z = g * xhat + b;
                vec4 sg = sigmoid4(z);
                dz *= sg * (1.0 + z * (1.0 - sg));
            }
            dz *= ok;
            sumDz += dz;
            sumDzXhat += dz * xhat;
        }
    }
    sSumDz[lid] = (sumDz.x + sumDz.y) + (sumDz.z + sumDz.w);
    sSumDzXhat[lid] = (sumDzXhat.x + sumDzXhat.y) + (sumDzXhat.z + sumDzXhat.w);
    barrier();
    for (uint s = ls / 2u; s > 0u; s >>= 1) {
        if (lid < s) {
            sSumDz[lid] += sSumDz[lid + s];
            sSumDzXhat[lid] += sSumDzXhat[lid + s];
        }
        barrier();
    }
    float db = sSumDz[0];
    float dg = sSumDzXhat[0];
    if (lid == 0u) {
        dbeta[ch] = db;
        dgamma[ch] = dg;
    }
    float meanDz = db / float(pc.m);
    float meanDzXhat = dg / float(pc.m);
    float k = g * is;

    // Pass 2: dx for every value of the channel.
    cur = cursorStart(ch, lid);
    if (aligned != 0u) {
        for (uint base = 0u; base < pc.slots; base += ls * BATCH) {
            uint texel[BATCH];
            bool inside[BATCH];
            vec4 xv[BATCH], dyv[BATCH];
            [[unroll]] for (uint i = 0u; i < BATCH; i++) {
                inside[i] = cur.q < pc.slots;
                texel[i] = inside[i] ? cur.base + cur.s : ch * pc.div;
                xv[i] = texelFetch(x4, int(texel[i]));
                dyv[i] = texelFetch(dy4, int(texel[i]));
                cursorAdvance(cur, ls);
            }
            [[unroll]] for (uint i = 0u; i < BATCH; i++) {
                vec4 xhat = (xv[i] - mu) * is;
                vec4 dz = dyv[i];
                if (act == ACT_SILU) {
                    vec4 z = g * xhat + b;
                    vec4 sg = sigmoid4(z);
                    dz *= sg * (1.0 + z * (1.0 - sg));
                }
                if (inside[i]) {
                    dxv[texel[i]] = k * (dz - meanDz - xhat * meanDzXhat);
                }
            }
        }
        return;
    }
    for (uint it = 0u; it < rounds; it++, cursorAdvance(cur, ls)) {
        [[unroll]] for (uint kk = 0u; kk < 4u; kk++) {
            uint j = 4u * cur.q + kk;
            if (j < pc.m) {
                uint img = divu(j, pc.div, pc.invDiv);
                uint e = (img * pc.c + ch) * pc.div + (j - img * pc.div);
                float xhat = (pick(texelFetch(x4, int(e >> 2)), e & 3u) - mu) * is;
                float dz = pick(texelFetch(dy4, int(e >> 2)), e & 3u);
                if (act == ACT_SILU) {
                    float z = g * xhat + b;
                    float sg = sigmoid1(z);
                    dz *= sg * (1.0 + z * (1.0 - sg));
                }
                dxs[e] = k * (dz - meanDz - xhat * meanDzXhat);
            }
        }
    }
}
#endif

#ifdef FORWARD
// Local size: a specialization constant (64 on a CPU driver, 256 on GPUs).
layout(local_size_x = 64, local_size_x_id = 0) in;

// texels is the number of consecutive texels per invocation (1, 2 or 4),
// all in one channel: it must divide hw/4 when aligned, and is 1 otherwise.
layout(constant_id = 2) const uint texels = 1u;

layout(push_constant) uniform Push {
    uint total;     // N*C*H*W
    uint c;         // channels C
    uint div;       // hw/4/texels when aligned, else hw
    float invDiv;   // 1/div
    float invC;     // 1/C
} pc;

layout(binding = 0) uniform samplerBuffer x4;
layout(binding = 1) uniform samplerBuffer mean4;
layout(binding = 2) uniform samplerBuffer invstd4;
layout(binding = 3) uniform samplerBuffer gamma4;
layout(binding = 4) uniform samplerBuffer beta4;
layout(std430, binding = 5) writeonly buffer Y4 { vec4 yv[]; };
layout(std430, binding = 6) writeonly buffer Y1 { float ys[]; };
#ifdef RESIDUAL
layout(binding = 7) uniform samplerBuffer residual4;
#define ADD_RESIDUAL(y, t) ((y) + texelFetch(residual4, int(t)))
#else
#define ADD_RESIDUAL(y, t) (y)
#endif

// channelOf is the channel of flat index i counted in units of div.
uint channelOf(uint i) {
    uint nc = divu(i, pc.div, pc.invDiv);
    return nc - divu(nc, pc.c, pc.invC) * pc.c;
}

void main() {
    uint g = linear_invocation();
    if (aligned != 0u) {
        // texels consecutive texels of one channel.
        if (4u * texels * g >= pc.total) {
            return;
        }
        uint ch = channelOf(g);
        float mu = channelValue(mean4, ch);
        float sc = channelValue(gamma4, ch) * channelValue(invstd4, ch);
        float sh = channelValue(beta4, ch);
        [[unroll]] for (uint r = 0u; r < texels; r++) {
            uint t = texels * g + r;
            yv[t] = ADD_RESIDUAL(activate((texelFetch(x4, int(t)) - mu) * sc + sh), t);
        }
        return;
    }
    // One texel whose values may belong to two channels.
    uint t = g;
    if (4u * t >= pc.total) {
        return;
    }
    vec4 mu, sc, sh;
    [[unroll]] for (uint k = 0u; k < 4u; k++) {
        uint ch = channelOf(min(4u * t + k, pc.total - 1u));
        mu[k] = channelValue(mean4, ch);
        sc[k] = channelValue(gamma4, ch) * channelValue(invstd4, ch);
        sh[k] = channelValue(beta4, ch);
    }
    vec4 y = ADD_RESIDUAL(activate((texelFetch(x4, int(t)) - mu) * sc + sh), t);
    if (4u * t + 3u < pc.total) {
        yv[t] = y;
    } else {
        for (uint k = 0u; 4u * t + k < pc.total; k++) {
            ys[4u * t + k] = y[k];
        }
    }
}
#endif

#if defined(UPDATE) || defined(EVAL_PARAMS)
// Local size: a specialization constant (64 on a CPU driver, 256 on GPUs).
layout(local_size_x = 64, local_size_x_id = 0) in;

layout(push_constant) uniform Push {
    uint c;            // channels
    float eps;
    float momentum;    // update only (PyTorch convention)
    float correction;  // update only: count/(count-1)
} pc;
#endif

#ifdef UPDATE
layout(std430, binding = 0) buffer RunMean { float runMean[]; };
layout(std430, binding = 1) buffer RunVar { float runVar[]; };
layout(std430, binding = 2) readonly buffer Mean { float mean[]; };
layout(std430, binding = 3) readonly buffer InvStd { float invstd[]; };

void main() {
    uint i = linear_invocation();
    if (i >= pc.c) {
        return;
    }
    float rm = runMean[i], rv = runVar[i];
    runningUpdate(rm, rv, mean[i], invstd[i], pc.eps, pc.momentum, pc.correction);
    runMean[i] = rm;
    runVar[i] = rv;
}
#endif

#ifdef EVAL_PARAMS
layout(std430, binding = 0) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 1) writeonly buffer InvStd { float invstd[]; };
layout(std430, binding = 2) readonly buffer RunMean { float runMean[]; };
layout(std430, binding = 3) readonly buffer RunVar { float runVar[]; };

void main() {
    uint i = linear_invocation();
    if (i >= pc.c) {
        return;
    }
    mean[i] = runMean[i];
    invstd[i] = 1.0 / sqrt(runVar[i] + pc.eps);
}
#endif
