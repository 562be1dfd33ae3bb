// Shared GLSL for every effv2vk kernel.
#ifndef EFFV2VK_COMMON_GLSL
#define EFFV2VK_COMMON_GLSL

// linear_group returns the workgroup's index in a grid that the engine may
// have folded from one dimension into up to three.
uint linear_group() {
    return gl_WorkGroupID.x + gl_NumWorkGroups.x * (gl_WorkGroupID.y + gl_NumWorkGroups.y * gl_WorkGroupID.z);
}

// linear_invocation() is the global index of this invocation in a 1D launch
// folded by the engine. A macro, not a function: gl_WorkGroupSize takes its
// value from the local_size layout only after that declaration, and this
// file is included before it.
#define linear_invocation() \
    (linear_group() * (gl_WorkGroupSize.x * gl_WorkGroupSize.y * gl_WorkGroupSize.z) + gl_LocalInvocationIndex)

#endif

// divu returns a / d for a quotient below 2^22, from a float estimate
// (invd = 1/d) corrected to the exact integer quotient. SIMD drivers run an
// integer division lane by lane; this is a multiply and two compares.
uint divu(uint a, uint d, float invd) {
    uint q = uint(int(float(int(a)) * invd)); // via int: see input.comp
    if (q * d > a) {
        q--;
    } else if ((q + 1u) * d <= a) {
        q++;
    }
    return q;
}
