#version 450
// fill: dst[i] = value for i < n. The engine's self-test kernel, also used to
// poison outputs with NaN in tests.
#include "common.glsl"

layout(local_size_x = 64) in;

layout(push_constant) uniform Push {
    uint n;
    float value;
} pc;

layout(std430, binding = 0) writeonly buffer Dst { float dst[]; };

void main() {
    uint i = linear_invocation();
    if (i < pc.n) {
        dst[i] = pc.value;
    }
}
