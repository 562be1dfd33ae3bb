#version 450
// saxpy: y[i] = a * x[i] + y[i]. Used by the engine's tests (dependent chains,
// replay) and as the template of an elementwise kernel.
//! kernel saxpy
//! kernel saxpy_texel TEXEL
#include "common.glsl"

layout(local_size_x = 64) in;

layout(push_constant) uniform Push {
    uint n;
    float a;
} pc;

#ifdef TEXEL
// x read through an RGBA32F texel view: four floats per fetch.
layout(binding = 0) uniform samplerBuffer x4;
#else
layout(std430, binding = 0) readonly buffer X { float x[]; };
#endif
layout(std430, binding = 1) buffer Y { float y[]; };

void main() {
    uint i = linear_invocation();
    if (i >= pc.n) {
        return;
    }
#ifdef TEXEL
    float xi = texelFetch(x4, int(i >> 2))[i & 3u];
#else
    float xi = x[i];
#endif
    y[i] = pc.a * xi + y[i];
}
