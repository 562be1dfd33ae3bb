#version 450
// subgroup_probe: each invocation of one workgroup writes where the driver
// put it: out[3*i..3*i+2] = (gl_SubgroupSize, gl_SubgroupID,
// gl_SubgroupInvocationID) for local invocation i. The engine's tests use it
// to see a required subgroup size take effect.
#extension GL_KHR_shader_subgroup_basic : require

layout(local_size_x_id = 0) in;
layout(constant_id = 0) const uint LOCAL = 64;

layout(std430, binding = 0) writeonly buffer Out { uint outv[]; };

void main() {
    uint i = gl_LocalInvocationIndex;
    outv[3u * i] = gl_SubgroupSize;
    outv[3u * i + 1u] = gl_SubgroupID;
    outv[3u * i + 2u] = gl_SubgroupInvocationID;
}
