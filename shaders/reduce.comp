#version 450
// Deterministic reductions for metrics (sums, means, gradient norms), in two
// passes with a fixed order:
//   reduce_partial(_squares): workgroup g adds (the squares of) the elements
//     of texels [g*chunk, (g+1)*chunk) of x into partials[offset + g];
//   reduce_final: out[0] = scale * sum_i partials[i], or its square root.
// Within a workgroup the sum uses subgroupAdd and a fixed-order pass over the
// per-subgroup results, so repeated runs give the same bits.
//! kernel reduce_partial
//! kernel reduce_partial_squares SQUARES
//! kernel reduce_final FINAL
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "common.glsl"

layout(local_size_x = 64, local_size_x_id = 0) in;

shared float part[gl_WorkGroupSize.x];

// wgSum adds v over the workgroup; invocation 0 gets the total.
float wgSum(float v) {
    v = subgroupAdd(v);
    if (subgroupElect()) {
        part[gl_SubgroupID] = v;
    }
    barrier();
    float s = 0.0;
    if (gl_LocalInvocationIndex == 0) {
        for (uint i = 0; i < gl_NumSubgroups; i++) {
            s += part[i];
        }
    }
    return s;
}

#ifdef FINAL
layout(push_constant) uniform Push {
    uint count;      // partials to add
    float scale;     // multiplies the sum (1/len for a mean)
    uint take_sqrt;  // 1: write sqrt(scale * sum)
} pc;
layout(std430, binding = 0) writeonly buffer Out { float result[]; };
layout(binding = 1) uniform samplerBuffer partials4;

void main() {
    const uint lid = gl_LocalInvocationIndex;
    float acc = 0.0;
    for (uint t = lid; t < ((pc.count + 3u) >> 2); t += gl_WorkGroupSize.x) {
        vec4 v = texelFetch(partials4, int(t));
        uint base = t << 2;
        if (base + 4u > pc.count) {
            for (uint k = 0; k < 4u; k++) {
                if (base + k >= pc.count) {
                    v[k] = 0.0;
                }
            }
        }
        acc += (v.x + v.y) + (v.z + v.w);
    }
    float s = wgSum(acc) * pc.scale;
    if (lid == 0) {
        result[0] = pc.take_sqrt != 0 ? sqrt(s) : s;
    }
}
#else
layout(push_constant) uniform Push {
    uint n;      // elements of x
    uint chunk;  // texels per workgroup
    uint offset; // first partial written
} pc;
layout(std430, binding = 0) writeonly buffer Partials { float partials[]; };
layout(binding = 1) uniform samplerBuffer x4;

void main() {
    const uint lid = gl_LocalInvocationIndex;
    uint g = linear_group();
    uint texels = (pc.n + 3u) >> 2;
    uint t0 = g * pc.chunk;
    if (t0 >= texels) {
        return; // a spare workgroup of a folded grid (uniform per workgroup)
    }
    uint t1 = min(t0 + pc.chunk, texels);
    vec4 acc = vec4(0.0);
    for (uint t = t0 + lid; t < t1; t += gl_WorkGroupSize.x) {
        vec4 v = texelFetch(x4, int(t));
        uint base = t << 2;
        if (base + 4u > pc.n) {
            for (uint k = 0; k < 4u; k++) {
                if (base + k >= pc.n) {
                    v[k] = 0.0;
                }
            }
        }
#ifdef SQUARES
        acc += v * v;
#else
        acc += v;
#endif
    }
    float s = wgSum((acc.x + acc.y) + (acc.z + acc.w));
    if (lid == 0) {
        partials[pc.offset + g] = s;
    }
}
#endif
