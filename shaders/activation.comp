#version 450
// Elementwise activations and sums over flat float32 tensors of any length,
// one vec4 (texel) per invocation. Inputs are read through RGBA32F texel
// views; the output is written as a vec4 through a storage buffer (binding
// Y4), except the last, partial texel of a length that is not a multiple of
// 4, which is written value by value through a float view of the same tensor
// (binding Y1), so nothing past the tensor's end is touched.
//
//   silu_forward      y = x * sig(x)
//   silu_backward     dx = dy * sig(x) * (1 + x * (1 - sig(x)))     (from x)
//   sigmoid_forward   y = sig(x)
//   sigmoid_backward  dx = dy * y * (1 - y)                         (from y)
//   add               y = a + b
//   add_scaled        y = a + alpha * b
//   scale             y = alpha * x
//
//! kernel silu_forward SILU_FORWARD UNARY
//! kernel silu_backward SILU_BACKWARD BINARY
//! kernel sigmoid_forward SIGMOID_FORWARD UNARY
//! kernel sigmoid_backward SIGMOID_BACKWARD BINARY
//! kernel add ADD BINARY
//! kernel add_scaled ADD_SCALED BINARY
//! kernel scale SCALE UNARY
#include "common.glsl"

// Local size: a specialization constant chosen per device (64 on a CPU
// driver, 256 on GPUs).
layout(local_size_x = 64, local_size_x_id = 0) in;

layout(push_constant) uniform Push {
    uint n;       // number of values
    float alpha;  // add_scaled and scale; ignored by the others
} pc;

layout(binding = 0) uniform samplerBuffer a4;
#ifdef BINARY
layout(binding = 1) uniform samplerBuffer b4;
#define OUT4 2
#define OUT1 3
#else
#define OUT4 1
#define OUT1 2
#endif
layout(std430, binding = OUT4) writeonly buffer Y4 { vec4 yv[]; };
layout(std430, binding = OUT1) writeonly buffer Y1 { float ys[]; };

vec4 sigmoid4(vec4 z) {
    return 1.0 / (1.0 + exp(-z));
}

void main() {
    uint t = linear_invocation();
    if (4u * t >= pc.n) {
        return;
    }
    vec4 a = texelFetch(a4, int(t));
#ifdef BINARY
    vec4 b = texelFetch(b4, int(t));
#endif
#if defined(SILU_FORWARD)
    vec4 y = a * sigmoid4(a);
#elif defined(SILU_BACKWARD)
    // a = dy, b = x
    vec4 s = sigmoid4(b);
    vec4 y = a * s * (1.0 + b * (1.0 - s));
#elif defined(SIGMOID_FORWARD)
    vec4 y = sigmoid4(a);
#elif defined(SIGMOID_BACKWARD)
    // a = dy, b = y (the forward output)
    vec4 y = a * b * (1.0 - b);
#elif defined(ADD)
    vec4 y = a + b;
#elif defined(ADD_SCALED)
    vec4 y = a + pc.alpha * b;
#elif defined(SCALE)
    vec4 y = pc.alpha * a;
#endif
    if (4u * t + 3u < pc.n) {
        yv[t] = y;
    } else {
        for (uint k = 0u; 4u * t + k < pc.n; k++) {
            ys[4u * t + k] = y[k];
        }
    }
}
