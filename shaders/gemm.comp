#version 450
// gemm: a shared-memory tiled GEMM for GPUs, with split-K.
//
//   C(m,j) = bias(j) + sum_{k<K} A(m,k) * B(k,j)    for m < M, j < N
//
// over strided operands, so that one kernel serves the linears (forward,
// backward data, backward weight) and the 1x1 convolutions (the batch folded
// into the columns or into the reduction). Reduction steps and columns have a
// two-level index, k = kq*kdiv + kr and j = jq*jdiv + jr (kdiv or jdiv at
// least K or N make the outer index 0):
//
//   A(m,k) = m*am + kq*akq + kr*akr
//   B(k,j) = kq*bkq + kr*bkr + jq*bjq + jr*bjr
//   C(m,j) = z*cz + m*cm + jq*cjq + jr*cjr     (z: the split, below)
//
// e.g. the 1x1 convolution forward y[n] = W * x[n] has M = OC, N = batch*HW,
// K = C, jdiv = HW: B(k,j) = n*C*HW + k*HW + p.
//
// Implicit GEMM (CONV, a specialization constant): KS x KS convolutions with
// stride S and padding P = (KS-1)/2, whose B operand is gathered from an
// image (zero outside it) instead of strided:
//   CONV 1 (forward, im2col):   B(k,j) = x[n,c, oh*S+kh-P, ow*S+kw-P],
//          k = (c,kh,kw), j = (n,oh,ow); x is [N,CH,H,W], the output OH x OW
//   CONV 2 (weight gradient):   the same gather with k and j swapped,
//          k = (n,oh,ow), j = (c,kh,kw)
//   CONV 3 (data gradient):     B(k,j) = dy[n,o, (ih+P-kh)/S, (iw+P-kw)/S]
//          where S divides both and they fall inside dy ([N,CH,OH,OW]),
//          k = (o,kh,kw), j = (n,ih,iw) over the H x W input
// A and C stay strided: the weights [OC,C,KS,KS] are a dense matrix, dy a
// batch of OC x OH*OW ones.
//
// Tiling: a workgroup owns a BM x BN tile of C, its (BM/TM)*(BN/TN)
// invocations a TM x TN register tile each. For each BK-deep slice of the
// reduction the workgroup stages BK x BM of A and BK x BN of B in shared
// memory, as vec4 rows padded by PAD vec4s (so the column-wise stores of a
// k-fast load and the row reads fall in different banks), then every
// invocation reads TM/4 + TN/4 vec4s per step and does TM*TN multiply-adds.
// Global loads fetch quads (4 consecutive rows of A, 4 consecutive columns
// of B) through texel buffers: one texel when the quad is contiguous and
// 16-byte aligned (FLAG_A_VEC, FLAG_B_VEC), else four scalar fetches.
// FLAG_A_KFAST/FLAG_B_KFAST order the quads so that neighbouring
// invocations read neighbouring addresses (k-fast when the reduction is the
// contiguous dimension).
// No subgroup operation: nothing assumes a subgroup size.
//
// Split-K: the grid's z dimension splits the reduction into pieces of kper
// steps; with more than one piece each workgroup writes its partial sums to
// its own slice of a scratch buffer (cz apart) and gemm_sum adds the slices
// in slice order. Every sum runs in a fixed order: results are bitwise
// reproducible.
//
//! kernel gemm
//! kernel gemm_bias BIAS
//! kernel gemm_sum SUM
//! kernel gemm_sum_bias SUM BIAS
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

#define fetch1(buf, i) texelFetch(buf, int((i) >> 2))[(i) & 3u]

#ifdef SUM

// gemm_sum: C(m,j) = bias(j) + sum_{z<splits} P[z*M*N + m*N + j], one
// element per invocation.
layout(local_size_x = 64, local_size_x_id = 0) in;

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint jdiv;
    uint cm;
    uint cjq;
    uint cjr;
    uint splits;
} pc;

layout(std430, binding = 0) writeonly buffer Out { float outC[]; };
layout(binding = 1) uniform samplerBuffer part4;
#ifdef BIAS
layout(binding = 2) uniform samplerBuffer bias4;
#endif

void main() {
    const uint e = linear_invocation();
    const uint mn = pc.M * pc.N;
    if (e >= mn) {
        return;
    }
    const uint m = e / pc.N, j = e - m * pc.N;
    float s = 0.0;
    for (uint z = 0; z < pc.splits; z++) {
        s += fetch1(part4, z * mn + e);
    }
#ifdef BIAS
    s += fetch1(bias4, j);
#endif
    const uint jq = j / pc.jdiv, jr = j - jq * pc.jdiv;
    outC[m * pc.cm + jq * pc.cjq + jr * pc.cjr] = s;
}

#else

// WG is the local size; the wrapper sets it to (BM/TM)*(BN/TN).
layout(local_size_x = 64, local_size_x_id = 0) in;
layout(constant_id = 1) const uint BM = 32; // rows of C per workgroup (a multiple of TM)
layout(constant_id = 2) const uint BN = 32; // columns of C per workgroup (a multiple of TN)
layout(constant_id = 3) const uint BK = 16; // reduction steps staged per slice
layout(constant_id = 4) const uint TM = 4;  // rows per invocation (a multiple of 4)
layout(constant_id = 5) const uint TN = 4;  // columns per invocation (a multiple of 4)
layout(constant_id = 6) const uint PAD = 1; // vec4s of padding per shared row
layout(constant_id = 7) const uint CONV = 0;   // 0: strided B; 1, 2, 3: the gathers above
layout(constant_id = 8) const int KS = 3;      // CONV: kernel size (odd)
layout(constant_id = 9) const int S = 1;       // CONV: stride

layout(push_constant) uniform Push {
    uint M;
    uint N;
    uint K;
    uint kdiv;
    uint jdiv;
    uint am;
    uint akq;
    uint akr;
    uint bkq;
    uint bkr;
    uint bjq;
    uint bjr;
    uint cm;
    uint cjq;
    uint cjr;
    uint cz;   // output stride between splits (the scratch slice size)
    uint kper; // reduction steps per split (a multiple of BK)
    uint flags; // the FLAG_* bits below
    int CH;    // CONV: channels of the gathered image
    int H;     // CONV: input height and width
    int W;
    int OH;    // CONV: output height and width
    int OW;
} pc;

layout(std430, binding = 0) writeonly buffer Out { float outC[]; };
layout(binding = 1) uniform samplerBuffer a4;
layout(binding = 2) uniform samplerBuffer b4;
#ifdef BIAS
layout(binding = 3) uniform samplerBuffer bias4;
#endif

// Bits of pc.flags (push constants, not specialization constants, so that
// one pipeline per tile serves every operand layout: uniform branches).
const uint FLAG_A_KFAST = 1u; // A quads ordered k-fast
const uint FLAG_B_KFAST = 2u; // B quads ordered k-fast
const uint FLAG_A_VEC = 4u;   // am == 1, akq, akr multiples of 4
const uint FLAG_B_VEC = 8u;   // bjr == 1, 4 | bkq, bkr, bjq, and jdiv (or jdiv >= N)

const uint AROW = BM / 4u + PAD; // vec4s per shared row of A
const uint BROW = BN / 4u + PAD;
shared vec4 As[BK * AROW]; // As[kk*AROW + m/4]: A(m0 + m, k0 + kk)
shared vec4 Bs[BK * BROW]; // Bs[kk*BROW + j/4]: B(k0 + kk, n0 + j)

// splitK returns (kq, kr) = (k / kdiv, k % kdiv), without a division when
// the reduction has no outer index (kdiv >= K, a uniform branch).
uvec2 splitK(uint k) {
    if (pc.kdiv >= pc.K) {
        return uvec2(0u, k);
    }
    const uint kq = k / pc.kdiv;
    return uvec2(kq, k - kq * pc.kdiv);
}

// loadA returns A(m..m+3, k), zero outside [0,M) or at or past kEnd.
vec4 loadA(uint m, uint k, uint kEnd) {
    vec4 v = vec4(0.0);
    if (k < kEnd) {
        const uvec2 kqr = splitK(k);
        const uint base = kqr.x * pc.akq + kqr.y * pc.akr;
        if ((pc.flags & FLAG_A_VEC) != 0u && m + 3u < pc.M) {
            v = texelFetch(a4, int((base + m) >> 2));
        } else {
            [[unroll]] for (uint t = 0; t < 4u; t++) {
                if (m + t < pc.M) {
                    v[t] = fetch1(a4, base + (m + t) * pc.am);
                }
            }
        }
    }
    return v;
}

// convB returns B(k,j) of the implicit GEMM selected by CONV.
float convB(uint k, uint j) {
    const int P = (KS - 1) / 2;
    if (CONV == 3u) {
        const int o = int(k) / (KS * KS), r = int(k) - o * (KS * KS);
        const int kh = r / KS, kw = r - kh * KS;
        const int hw = pc.H * pc.W;
        const int n = int(j) / hw, q = int(j) - n * hw;
        const int ih = q / pc.W, iw = q - ih * pc.W;
        const int th = ih + P - kh, tw = iw + P - kw;
        const int oh = th / S, ow = tw / S;
        if (th < 0 || tw < 0 || oh * S != th || ow * S != tw || oh >= pc.OH || ow >= pc.OW) {
            return 0.0;
        }
        return fetch1(b4, uint(((n * pc.CH + o) * pc.OH + oh) * pc.OW + ow));
    }
    // CONV 1 and 2 gather the same im2col matrix, transposed for 2.
    const uint f = CONV == 1u ? k : j; // (c,kh,kw)
    const uint g = CONV == 1u ? j : k; // (n,oh,ow)
    const int c = int(f) / (KS * KS), r = int(f) - c * (KS * KS);
    const int kh = r / KS, kw = r - kh * KS;
    const int ohw = pc.OH * pc.OW;
    const int n = int(g) / ohw, q = int(g) - n * ohw;
    const int oh = q / pc.OW, ow = q - oh * pc.OW;
    const int ih = oh * S + kh - P, iw = ow * S + kw - P;
    if (ih < 0 || iw < 0 || ih >= pc.H || iw >= pc.W) {
        return 0.0;
    }
    return fetch1(b4, uint(((n * pc.CH + c) * pc.H + ih) * pc.W + iw));
}

// loadB returns B(k, j..j+3), zero outside [0,N) or at or past kEnd.
vec4 loadB(uint k, uint j, uint kEnd) {
    vec4 v = vec4(0.0);
    if (CONV != 0u) {
        [[unroll]] for (uint t = 0; t < 4u; t++) {
            if (k < kEnd && j + t < pc.N) {
                v[t] = convB(k, j + t);
            }
        }
        return v;
    }
    if (k < kEnd) {
        const uvec2 kqr = splitK(k);
        const uint base = kqr.x * pc.bkq + kqr.y * pc.bkr;
        // One division for the quad; the next columns step (jq, jr).
        uint jq = j / pc.jdiv, jr = j - jq * pc.jdiv;
        if ((pc.flags & FLAG_B_VEC) != 0u && j + 3u < pc.N) {
            v = texelFetch(b4, int((base + jq * pc.bjq + jr) >> 2));
        } else {
            [[unroll]] for (uint t = 0; t < 4u; t++) {
                if (j + t < pc.N) {
                    v[t] = fetch1(b4, base + jq * pc.bjq + jr * pc.bjr);
                }
                jr++;
                if (jr == pc.jdiv) {
                    jr = 0u;
                    jq++;
                }
            }
        }
    }
    return v;
}

void main() {
    const uint WG = gl_WorkGroupSize.x;
    const uint tid = gl_LocalInvocationID.x;
    const uint m0 = gl_WorkGroupID.y * BM;
    const uint n0 = gl_WorkGroupID.x * BN;
    const uint z = gl_WorkGroupID.z;
    const uint kBegin = z * pc.kper;
    const uint kEnd = min(pc.K, kBegin + pc.kper);
    const uint tn = tid % (BN / TN), tm = tid / (BN / TN);
    const bool aKFast = (pc.flags & FLAG_A_KFAST) != 0u;
    const bool bKFast = (pc.flags & FLAG_B_KFAST) != 0u;

    vec4 acc[TM * (TN / 4u)]; // acc[r*(TN/4) + c]: row tm*TM + r, columns tn*TN + 4c..+3
    [[unroll]] for (uint i = 0; i < TM * (TN / 4u); i++) {
        acc[i] = vec4(0.0);
    }

    for (uint k0 = kBegin; k0 < kEnd; k0 += BK) {
        // Stage the slice: BK*BM/4 quads of A, BK*BN/4 of B.
        for (uint q = tid; q < BK * (BM / 4u); q += WG) {
            const uint kk = aKFast ? q % BK : q / (BM / 4u);
            const uint mq = aKFast ? q / BK : q % (BM / 4u);
            As[kk * AROW + mq] = loadA(m0 + 4u * mq, k0 + kk, kEnd);
        }
        for (uint q = tid; q < BK * (BN / 4u); q += WG) {
            const uint kk = bKFast ? q % BK : q / (BN / 4u);
            const uint jq = bKFast ? q / BK : q % (BN / 4u);
            Bs[kk * BROW + jq] = loadB(k0 + kk, n0 + 4u * jq, kEnd);
        }
        barrier();
        for (uint kk = 0; kk < BK; kk++) {
            vec4 a[TM / 4u], b[TN / 4u];
            [[unroll]] for (uint i = 0; i < TM / 4u; i++) {
                a[i] = As[kk * AROW + tm * (TM / 4u) + i];
            }
            [[unroll]] for (uint i = 0; i < TN / 4u; i++) {
                b[i] = Bs[kk * BROW + tn * (TN / 4u) + i];
            }
            [[unroll]] for (uint r = 0; r < TM; r++) {
                [[unroll]] for (uint c = 0; c < TN / 4u; c++) {
                    acc[r * (TN / 4u) + c] = fma(vec4(a[r / 4u][r % 4u]), b[c], acc[r * (TN / 4u) + c]);
                }
            }
        }
        barrier();
    }

    // Each element of C (or of this split's slice) is written once. The
    // column offsets, one division for all TN columns:
    uint coff[TN];
    {
        const uint j = n0 + tn * TN;
        uint jq = j / pc.jdiv, jr = j - jq * pc.jdiv;
        [[unroll]] for (uint c = 0; c < TN; c++) {
            coff[c] = jq * pc.cjq + jr * pc.cjr;
            jr++;
            if (jr == pc.jdiv) {
                jr = 0u;
                jq++;
            }
        }
    }
    [[unroll]] for (uint r = 0; r < TM; r++) {
        const uint m = m0 + tm * TM + r;
        if (m < pc.M) {
            [[unroll]] for (uint c = 0; c < TN; c++) {
                const uint j = n0 + tn * TN + c;
                if (j < pc.N) {
                    float v = acc[r * (TN / 4u) + c / 4u][c % 4u];
#ifdef BIAS
                    v += fetch1(bias4, j);
#endif
                    outC[z * pc.cz + m * pc.cm + coff[c]] = v;
                }
            }
        }
    }
}

#endif
