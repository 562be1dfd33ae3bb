#version 450
// Softmax cross entropy over logits [N,K], with hard labels (int32 [N], label
// smoothing eps) or soft targets (float32 [N,K], e.g. mixup), as
// ops/ref.SoftmaxCrossEntropy:
//   logp[n,j]    = logits[n,j] - max_j logits[n,:] - log sum_j exp(logits[n,j] - max)
//   loss         = (1/N) sum_n -sum_j t[n,j] * logp[n,j]
//   dlogits[n,j] = (exp(logp[n,j]) * sum_j t[n,j] - t[n,j]) / N
//   correct      = (top-1 count, top-5 count): the label is in the top k when
//                  fewer than k classes have a strictly larger logit.
// One workgroup walks the rows in order; each row is reduced across the
// workgroup with subgroup operations and a fixed-order pass over the
// per-subgroup partials, so the result is bitwise reproducible. A hard label
// outside [0,K) makes the loss NaN.
//! kernel softmax_cross_entropy_hard HARD
//! kernel softmax_cross_entropy_soft SOFT
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0) in;

layout(push_constant) uniform Push {
    uint n;
    uint k;
    float eps; // label smoothing (hard labels)
} pc;

layout(std430, binding = 0) writeonly buffer Loss { float loss[]; };
layout(std430, binding = 1) writeonly buffer Correct { float correct[]; };
layout(std430, binding = 2) writeonly buffer DLogits { float dlogits[]; };
layout(binding = 3) uniform samplerBuffer logits4;
#ifdef HARD
layout(std430, binding = 4) readonly buffer Labels { int labels[]; };
#else
layout(binding = 4) uniform samplerBuffer soft4;
#endif

#define fetch1(buf, i) texelFetch(buf, int((i) >> 2))[(i) & 3u]

shared float partF[gl_WorkGroupSize.x];
shared uint partU[gl_WorkGroupSize.x];

// The wg* helpers reduce over the workgroup; every invocation gets the same
// result, added in the same order on every run.
float wgSum(float v) {
    v = subgroupAdd(v);
    if (subgroupElect()) {
        partF[gl_SubgroupID] = v;
    }
    barrier();
    float s = 0.0;
    for (uint i = 0; i < gl_NumSubgroups; i++) {
        s += partF[i];
    }
    barrier();
    return s;
}

float wgMax(float v) {
    v = subgroupMax(v);
    if (subgroupElect()) {
        partF[gl_SubgroupID] = v;
    }
    barrier();
    float m = partF[0];
    for (uint i = 1; i < gl_NumSubgroups; i++) {
        m = max(m, partF[i]);
    }
    barrier();
    return m;
}

uint wgMinU(uint v) {
    v = subgroupMin(v);
    if (subgroupElect()) {
        partU[gl_SubgroupID] = v;
    }
    barrier();
    uint m = partU[0];
    for (uint i = 1; i < gl_NumSubgroups; i++) {
        m = min(m, partU[i]);
    }
    barrier();
    return m;
}

void main() {
    const uint lid = gl_LocalInvocationIndex;
    const uint wg = gl_WorkGroupSize.x;
    const float invN = 1.0 / float(pc.n);
    float total = 0.0;
    float top1 = 0.0, top5 = 0.0;
    bool bad = false;
    for (uint r = 0; r < pc.n; r++) {
        uint row = r * pc.k;
        // The sample's label: the hard label, or the first argmax of the soft target.
#ifdef HARD
        int lab = labels[r];
        bad = bad || lab < 0 || uint(lab) >= pc.k;
        uint label = uint(clamp(lab, 0, int(pc.k) - 1));
        float tsum = 1.0;
        float off = pc.eps / float(pc.k);
        float on = off + (1.0 - pc.eps);
#else
        float tmax = uintBitsToFloat(0xFF800000u);
        float ts = 0.0;
        for (uint j = lid; j < pc.k; j += wg) {
            float t = fetch1(soft4, row + j);
            tmax = max(tmax, t);
            ts += t;
        }
        tmax = wgMax(tmax);
        float tsum = wgSum(ts);
        uint first = 0xFFFFFFFFu;
        for (uint j = lid; j < pc.k; j += wg) {
            if (fetch1(soft4, row + j) == tmax) {
                first = min(first, j);
            }
        }
        uint label = wgMinU(first);
#endif
        float m = uintBitsToFloat(0xFF800000u);
        for (uint j = lid; j < pc.k; j += wg) {
            m = max(m, fetch1(logits4, row + j));
        }
        m = wgMax(m);
        float se = 0.0;
        for (uint j = lid; j < pc.k; j += wg) {
            se += exp(fetch1(logits4, row + j) - m);
        }
        float lse = log(wgSum(se));
        float labelLogit = fetch1(logits4, row + label);
        float l = 0.0;
        float larger = 0.0;
        for (uint j = lid; j < pc.k; j += wg) {
            float z = fetch1(logits4, row + j);
            float logp = z - m - lse;
#ifdef HARD
            float t = j == label ? on : off;
#else
            float t = fetch1(soft4, row + j);
#endif
            l -= t * logp;
            dlogits[row + j] = (exp(logp) * tsum - t) * invN;
            larger += z > labelLogit ? 1.0 : 0.0;
        }
        total += wgSum(l);
        larger = wgSum(larger);
        top1 += larger < 1.0 ? 1.0 : 0.0;
        top5 += larger < 5.0 ? 1.0 : 0.0;
    }
    if (lid == 0) {
        loss[0] = bad ? uintBitsToFloat(0x7FC00000u) : total * invN;
        correct[0] = top1;
        correct[1] = top5;
    }
}
