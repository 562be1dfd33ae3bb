#version 450
// optim: optimizer updates and the exponential moving average of weights,
// elementwise over flat float32 parameter groups. The unit of work is one
// vec4 (four consecutive elements); an invocation handles ITEMS of them,
// strided by the workgroup size. The vec4 at the end of a group whose length
// is not a multiple of 4 is handled lane by lane.
//
// Reads and writes take different paths. Writes are vec4 storage-buffer
// stores. Reads of what the kernel also writes (parameters, moments, EMA
// copies) come, with TEXEL_READS = 1, through RGBA32F storage texel views of
// the same memory (imageLoad), else from the storage buffers; gradients and
// live weights that are only read always come through an RGBA32F uniform
// texel view. Each invocation reads a vec4 before it writes it, and no
// invocation touches another's, so reading one view and writing another
// is safe.
//
// Why (lavapipe, Mesa 22.3, 8-wide SoA): a storage-buffer access at a
// non-uniform address is a scalar loop over the 8 lanes with a bounds check
// per element, while imageLoad and texelFetch on a texel buffer are
// branch-free gathers. `effv2vk bench ops --only optim` (EFFV2VK_TUNE=off,
// 2 busy cores, medians of 5 alternating runs of 7): RMSProp over
// EfficientNetV2-S's 21.5M parameters 921 ms with storage-buffer reads
// (64 x 4 vec4s) and 184 ms with texel reads (8 x 16); SGD 566 -> 116 ms,
// AdamW 806 -> 207 ms, EMA 266 -> 60 ms. imageStore writes measured ~1.8x
// slower than storage-buffer stores, here as in depthwise.comp. The
// storage-buffer stores (a lane loop too) are what is left. On GPUs both
// read paths coalesce; ITEMS, the local size and TEXEL_READS are chosen
// per device by package optim (autotuned).
//
// Bindings the caller owns (parameters, gradients, live weights) may have any
// length: parameters are bound as vec4[] (whole vec4s only: the binding's
// range is the tensor's exact byte size), as float[] for the tail and as a
// texel view whose lanes past the end are masked; gradients and live
// weights through a texel view, masked likewise. State tensors (moments,
// EMA copies) belong to package optim, which pads them to a multiple of 4 so
// they are always whole vec4s.
//
// Per-step values (learning rate, bias corrections, EMA decay) are read from
// the small tensor hyper, which the host rewrites between runs without
// re-recording; fixed hyperparameters are push constants.
//
//! kernel optim_rmsprop RMSPROP
//! kernel optim_sgd SGD
//! kernel optim_adamw ADAMW
//! kernel optim_ema EMA
//! kernel optim_ema_swap SWAP
#include "common.glsl"

// Invocations per workgroup, and vec4s per invocation (strided by the
// workgroup size, so neighbouring invocations touch neighbouring vec4s).
layout(local_size_x = 64, local_size_x_id = 0) in;
layout(constant_id = 1) const uint ITEMS = 4u;
// 1: read parameters and state through the texel views; 0: through the
// storage buffers.
layout(constant_id = 2) const uint TEXEL_READS = 1u;

#if defined(RMSPROP)
// hyper[0] = lr.
layout(push_constant) uniform Push {
    uint n;               // elements in the group
    float one_minus_rho;  // 1 - square-average decay
    float momentum;
    float eps;            // added to the square average inside the sqrt
    float weight_decay;   // coupled L2: g += weight_decay * p
} pc;
#elif defined(SGD)
// hyper[0] = lr.
layout(push_constant) uniform Push {
    uint n;               // elements in the group
    float momentum;
    float weight_decay;   // coupled L2: g += weight_decay * p
    uint nesterov;        // 1: step along g + momentum * buf
} pc;
#elif defined(ADAMW)
// hyper[0] = lr, hyper[1] = lr / (1 - beta1^t), hyper[2] = 1 / sqrt(1 - beta2^t).
layout(push_constant) uniform Push {
    uint n;                 // elements in the group
    float one_minus_beta1;
    float one_minus_beta2;
    float eps;              // added to sqrt(v_hat), outside the sqrt
    float weight_decay;     // decoupled: p -= lr * weight_decay * p
} pc;
#else
// EMA: hyper[0] = 1 - decay. SWAP: no hyper.
layout(push_constant) uniform Push {
    uint n;  // elements of the live tensor
} pc;
#endif

#if defined(RMSPROP) || defined(SGD) || defined(ADAMW)
layout(std430, binding = 0) readonly buffer Hyper { float hyper[]; };
layout(std430, binding = 1) buffer Params4 { vec4 p4[]; };
layout(std430, binding = 2) buffer Params1 { float p1[]; };
layout(binding = 3) uniform samplerBuffer grads;
layout(std430, binding = 4) buffer State0 { vec4 s0[]; };
#if defined(SGD)
layout(binding = 5, rgba32f) uniform imageBuffer params_view;
layout(binding = 6, rgba32f) uniform imageBuffer state0_view;
#else
layout(std430, binding = 5) buffer State1 { vec4 s1[]; };
layout(binding = 6, rgba32f) uniform imageBuffer params_view;
layout(binding = 7, rgba32f) uniform imageBuffer state0_view;
layout(binding = 8, rgba32f) uniform imageBuffer state1_view;
#endif
#elif defined(EMA)
layout(std430, binding = 0) readonly buffer Hyper { float hyper[]; };
layout(std430, binding = 1) buffer Ema { vec4 e4[]; };
layout(binding = 2) uniform samplerBuffer live;
layout(binding = 3, rgba32f) uniform imageBuffer ema_view;
#else
layout(std430, binding = 0) buffer Live4 { vec4 p4[]; };
layout(std430, binding = 1) buffer Live1 { float p1[]; };
layout(std430, binding = 2) buffer Ema { vec4 e4[]; };
layout(binding = 3, rgba32f) uniform imageBuffer params_view;
layout(binding = 4, rgba32f) uniform imageBuffer ema_view;
#endif

// whole reports whether vec4 i lies entirely inside the n elements.
bool whole(uint i) {
    return 4u * i + 4u <= pc.n;
}

// inside masks the lanes of vec4 i that lie inside the n elements.
bvec4 inside(uint i) {
    return lessThan(uvec4(4u * i) + uvec4(0u, 1u, 2u, 3u), uvec4(pc.n));
}

#if !defined(EMA)
// load_p reads vec4 i of the caller's tensor; lanes past the end read 0.
vec4 load_p(uint i) {
    if (TEXEL_READS != 0u) {
        return mix(vec4(0.0), imageLoad(params_view, int(i)), inside(i));
    }
    if (whole(i)) {
        return p4[i];
    }
    vec4 v = vec4(0.0);
    for (uint k = 0u; k < 4u; k++) {
        if (4u * i + k < pc.n) {
            v[k] = p1[4u * i + k];
        }
    }
    return v;
}

// store_p writes vec4 i of the caller's tensor, never past its end.
void store_p(uint i, vec4 v) {
    if (whole(i)) {
        p4[i] = v;
        return;
    }
    for (uint k = 0u; k < 4u; k++) {
        if (4u * i + k < pc.n) {
            p1[4u * i + k] = v[k];
        }
    }
}
#endif

#if defined(RMSPROP) || defined(SGD) || defined(ADAMW)
// load_s0 reads vec4 i of the first state tensor.
vec4 load_s0(uint i) {
    if (TEXEL_READS != 0u) {
        return imageLoad(state0_view, int(i));
    }
    return s0[i];
}
#endif
#if defined(RMSPROP) || defined(ADAMW)
// load_s1 reads vec4 i of the second state tensor.
vec4 load_s1(uint i) {
    if (TEXEL_READS != 0u) {
        return imageLoad(state1_view, int(i));
    }
    return s1[i];
}
#endif
#if defined(EMA) || defined(SWAP)
// load_e reads vec4 i of the average.
vec4 load_e(uint i) {
    if (TEXEL_READS != 0u) {
        return imageLoad(ema_view, int(i));
    }
    return e4[i];
}
#endif

// update handles vec4 i of the group.
void update(uint i) {
#if defined(SWAP)
    vec4 p = load_p(i);
    store_p(i, load_e(i));
    e4[i] = p;
#elif defined(EMA)
    // ema += (1 - decay) * (x - ema): the same as decay * ema + (1 - decay) * x,
    // with a fixed point of exactly x whatever the rounding of decay.
    vec4 x = texelFetch(live, int(i));
    x = mix(vec4(0.0), x, inside(i));
    vec4 e = load_e(i);
    e4[i] = e + hyper[0] * (x - e);
#else
    float lr = hyper[0];
    vec4 p = load_p(i);
    vec4 g = texelFetch(grads, int(i));
    g = mix(vec4(0.0), g, inside(i));  // lanes past the end may hold anything
#if defined(RMSPROP)
    g += pc.weight_decay * p;
    vec4 ms = load_s0(i);
    ms += pc.one_minus_rho * (g * g - ms);
    vec4 mom = pc.momentum * load_s1(i) + lr * g / sqrt(ms + pc.eps);
    s0[i] = ms;
    s1[i] = mom;
    store_p(i, p - mom);
#elif defined(SGD)
    g += pc.weight_decay * p;
    vec4 buf = pc.momentum * load_s0(i) + g;
    s0[i] = buf;
    vec4 dir = pc.nesterov != 0u ? g + pc.momentum * buf : buf;
    store_p(i, p - lr * dir);
#else
    p -= (lr * pc.weight_decay) * p;
    vec4 m = load_s0(i);
    vec4 v = load_s1(i);
    m += pc.one_minus_beta1 * (g - m);
    v += pc.one_minus_beta2 * (g * g - v);
    s0[i] = m;
    s1[i] = v;
    store_p(i, p - hyper[1] * m / (sqrt(v) * hyper[2] + pc.eps));
#endif
#endif
}

void main() {
    uint nvec = (pc.n + 3u) / 4u;
    uint i = linear_group() * (gl_WorkGroupSize.x * ITEMS) + gl_LocalInvocationIndex;
    for (uint k = 0u; k < ITEMS; k++, i += gl_WorkGroupSize.x) {
        if (i >= nvec) {
            return;
        }
        update(i);
    }
}
