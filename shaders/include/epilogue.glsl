// Fused epilogue of the forward convolution kernels (conv2d, pointwise,
// depthwise): eval-mode batch norm folded into the producing conv, with its
// activation and an optional residual, applied to each sum z before it is
// written:
//
//   y[n,o,...] = act(z * scale[o] + shift[o])  (+ residual[n,o,...])
//
// scale = gamma * invstd and shift = beta - mean * scale come from the
// running statistics (batchnorm_fold). The conv's output is then the
// unit's output: neither z is written nor a separate batch-norm pass runs.
//
// A kernel variant compiled with EPILOGUE defines EPI_BINDING (its first
// free binding) before including this file; the epilogue takes that binding
// and the next two. Without EPILOGUE, epilogue1 and epilogue4 return z, or
// with ADDEND z plus the addend's element.
#ifndef EFFV2VK_EPILOGUE_GLSL
#define EFFV2VK_EPILOGUE_GLSL

#ifdef EPILOGUE
// EPI_ACT is the activation after the affine transform: 0 none, 1 SiLU (as
// ops.Activation). EPI_RESIDUAL is 1 when a residual is added after it.
// High constant ids, clear of the kernels' own.
layout(constant_id = 20) const uint EPI_ACT = 0u;
layout(constant_id = 21) const uint EPI_RESIDUAL = 0u;

layout(r32f, binding = EPI_BINDING) readonly uniform imageBuffer epiScale;
layout(r32f, binding = EPI_BINDING + 1) readonly uniform imageBuffer epiShift;
// The residual, read as texels of 4 values (bound to a stand-in, never
// read, when EPI_RESIDUAL is 0).
layout(binding = EPI_BINDING + 2) uniform samplerBuffer epiResidual;

float epiActivate1(float v) {
    return EPI_ACT == 1u ? v * (1.0 / (1.0 + exp(-v))) : v;
}

vec4 epiActivate4(vec4 v) {
    return EPI_ACT == 1u ? v * (1.0 / (1.0 + exp(-v))) : v;
}

// epilogue1 is output element i (flat index), of channel o, from its sum z.
float epilogue1(float z, uint o, uint i) {
    float y = epiActivate1(z * imageLoad(epiScale, int(o)).r + imageLoad(epiShift, int(o)).r);
    if (EPI_RESIDUAL == 1u) {
        y += texelFetch(epiResidual, int(i >> 2))[i & 3u];
    }
    return y;
}

// epilogue4 is the 4 output elements of texel t (flat elements 4t..4t+3,
// all of channel o) from their sums z.
vec4 epilogue4(vec4 z, uint o, uint t) {
    vec4 y = epiActivate4(z * imageLoad(epiScale, int(o)).r + imageLoad(epiShift, int(o)).r);
    if (EPI_RESIDUAL == 1u) {
        y += texelFetch(epiResidual, int(t));
    }
    return y;
}
#elif defined(ADDEND)
// The backward-data variants _add add a tensor of the output's shape to
// each result, dx = sum + addend: the gradient a residual block's input
// gets through its skip connection, so that the block's backward needs no
// separate sum. Binding EPI_BINDING, read as texels of 4 values.
layout(binding = EPI_BINDING) uniform samplerBuffer addend;

#define epilogue1(z, o, i) ((z) + texelFetch(addend, int((i) >> 2))[(i) & 3u])
#define epilogue4(z, o, t) ((z) + texelFetch(addend, int(t)))
#else
#define epilogue1(z, o, i) (z)
#define epilogue4(z, o, t) (z)
#endif

#ifdef CHANNEL_SCALE
// The prologue of the pointwise (1x1) variants _se: the input x[n,c,h,w]
// is multiplied by inScale[n*C + c] (squeeze-excite's channel scale) as it
// is read, so that the scaled input is never written. Its binding follows
// the epilogue's, or takes EPI_BINDING without an epilogue.
#ifdef EPILOGUE
layout(binding = EPI_BINDING + 3) uniform samplerBuffer inScale;
#else
layout(binding = EPI_BINDING) uniform samplerBuffer inScale;
#endif

// inputScale is inScale[i], i = n*C + c.
float inputScale(uint i) {
    return texelFetch(inScale, int(i >> 2))[i & 3u];
}
#endif

#endif
