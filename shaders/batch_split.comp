#version 450
// What a batch split of batch norm (ops/batch_split_batchnorm.go) needs
// besides the ordinary kernels run once per slice of the batch: merging
// per-slice statistics, and the input gradient once the whole batch's sums
// are known.
//   batchnorm_split_merge_stats: per channel, the mean and 1/sqrt(var+eps) of
//     the whole batch from each slice's mean and 1/sqrt(var) (biased, eps 0):
//     mean = sum_k M_k mean_k / M, M2 = sum_k M_k (var_k + (mean_k-mean)^2).
//   batchnorm_split_backward_dx: dx of batch norm (ops.BatchNormBackward)
//     for one slice, from the whole batch's dgamma and dbeta.
//! kernel batchnorm_split_merge_stats MERGE_STATS
//! kernel batchnorm_split_backward_dx BACKWARD_DX
#include "common.glsl"

layout(local_size_x = 64) in;

#ifdef MERGE_STATS
layout(push_constant) uniform Push {
    uint c;      // channels
    uint slices; // rows of the partial statistics
    uint stride; // elements from one slice's row to the next
    uint n;      // samples in the batch
    uint per;    // samples per slice (the last slice may hold fewer)
    uint hw;     // values per channel and sample
    float eps;
} pc;
layout(std430, binding = 0) writeonly buffer Mean { float mean[]; };
layout(std430, binding = 1) writeonly buffer Invstd { float invstd[]; };
layout(std430, binding = 2) readonly buffer PartMean { float partMean[]; };
layout(std430, binding = 3) readonly buffer PartInvstd { float partInvstd[]; };

// sliceCount is the number of values of one channel in slice k.
float sliceCount(uint k) {
    return float(min(pc.per, pc.n - k * pc.per) * pc.hw);
}

void main() {
    uint ch = linear_invocation();
    if (ch >= pc.c) {
        return;
    }
    float total = float(pc.n * pc.hw);
    float mu = 0.0;
    for (uint k = 0u; k < pc.slices; k++) {
        mu += sliceCount(k) / total * partMean[k * pc.stride + ch];
    }
    float m2 = 0.0;
    for (uint k = 0u; k < pc.slices; k++) {
        float is = partInvstd[k * pc.stride + ch];
        float d = partMean[k * pc.stride + ch] - mu;
        m2 += sliceCount(k) * (1.0 / (is * is) + d * d); // is = inf: var 0
    }
    mean[ch] = mu;
    invstd[ch] = 1.0 / sqrt(m2 / total + pc.eps);
}
#endif

#ifdef BACKWARD_DX
layout(constant_id = 0) const uint act = 0u; // 0 none, 1 SiLU (ops.Activation)

layout(push_constant) uniform Push {
    uint total; // values in the slice
    uint c;     // channels
    uint hw;    // values per channel and sample
    float m;    // values per channel in the whole batch
} pc;
layout(std430, binding = 0) writeonly buffer DX { float dx[]; };
layout(std430, binding = 1) readonly buffer X { float x[]; };
layout(std430, binding = 2) readonly buffer DY { float dy[]; };
layout(std430, binding = 3) readonly buffer Mean { float mean[]; };
layout(std430, binding = 4) readonly buffer Invstd { float invstd[]; };
layout(std430, binding = 5) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 6) readonly buffer Beta { float beta[]; };
layout(std430, binding = 7) readonly buffer DGamma { float dgamma[]; };
layout(std430, binding = 8) readonly buffer DBeta { float dbeta[]; };

void main() {
    uint e = linear_invocation();
    if (e >= pc.total) {
        return;
    }
    uint ch = (e / pc.hw) % pc.c;
    float is = invstd[ch];
    float g = gamma[ch];
    float xhat = (x[e] - mean[ch]) * is;
    float dz = dy[e];
    if (act == 1u) {
        float z = g * xhat + beta[ch];
        float sg = 1.0 / (1.0 + exp(-z));
        dz *= sg * (1.0 + z * (1.0 - sg));
    }
    dx[e] = g * is * (dz - dbeta[ch] / pc.m - xhat * dgamma[ch] / pc.m);
}
#endif
