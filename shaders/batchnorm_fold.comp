#version 450
// batchnorm_fold: eval-mode batch norm as a per-channel affine map, for the
// fused epilogue of the forward convolutions (include/epilogue.glsl):
//
//   scale[c] = gamma[c] / sqrt(runVar[c] + eps)
//   shift[c] = beta[c] - runMean[c] * scale[c]
//
// so that gamma*(z - runMean)*invstd + beta = z*scale + shift. One
// invocation per channel; recorded once per run of an evaluation graph, so
// running statistics updated between runs are always the ones applied.
#include "common.glsl"

layout(local_size_x = 64) in;

layout(push_constant) uniform Push {
    uint c;     // channels
    float eps;
} pc;

layout(std430, binding = 0) writeonly buffer Scale { float scale[]; };
layout(std430, binding = 1) writeonly buffer Shift { float shift[]; };
layout(std430, binding = 2) readonly buffer RunMean { float runMean[]; };
layout(std430, binding = 3) readonly buffer RunVar { float runVar[]; };
layout(std430, binding = 4) readonly buffer Gamma { float gamma[]; };
layout(std430, binding = 5) readonly buffer Beta { float beta[]; };

void main() {
    uint i = linear_invocation();
    if (i >= pc.c) {
        return;
    }
    float s = gamma[i] / sqrt(runVar[i] + pc.eps);
    scale[i] = s;
    shift[i] = beta[i] - runMean[i] * s;
}
