#version 450
// conv2d_stem: the k x k convolution (groups 1, no bias, padding
// P = (K-1)/2) for few input channels, as the stem's 3 (specs:
// ops/ref/conv2d.go). The register-tile kernels of conv2d.comp give each
// lane of an 8-lane cluster one channel of the 3, leaving 5 idle, and
// fetch the same input for every tile of 8 output channels; here an
// invocation owns pixels and every channel:
//   - forward: PX neighbouring output pixels of one row x all OT output
//     channels: its C*K*SPAN input values are
//     fetched once, and the weights, the same for every invocation, are
//     loads at constant addresses;
//   - backward data: an S x S*PX block of input pixels (every parity of
//     a stride-S convolution in one dispatch: each pixel sums only its own
//     taps, known when the pipeline is built) x all C input channels,
//     summing over all OT = OC output channels: the dy values under the
//     block are fetched once for the C channels.
// Inputs are read through R32F storage texel views (one gather on
// lavapipe); weights through a storage buffer at addresses that are
// constants once the pipeline is specialized, which lavapipe loads once
// for all lanes instead of a loop over them, and once per invocation: an
// invocation computes ROWS rows one after the other, as the weights stay. No subgroup operation: any subgroup width, any local size.
// Every sum is over a fixed order: bitwise reproducible.
//
// Where the rows allow it, the _x4 / _dy4 kernels read the input's rows
// as whole RGBA32F texels (the first column of every invocation's window
// lies at the same offset in its texel), and the _u64 kernels (devices
// with shaderInt64) store 8 floats as one u64vec4 of bit-packed pairs.
//
// Measured on lavapipe (2026-11-29; numbers in ops/tune_conv2d_stem.go):
// rows per invocation pay (one row each was slower than conv2d.comp),
// weights at per-workgroup addresses (an output-channel split) cost 5x.
// On the stem (3->24, stride 2, 128x128, batch 8) backward data px8 x 4
// rows with dy as vec4 texels and u64 stores took 0.49x the time of the
// px4 x 4 rows kernel before them (px4: 0.65x); the vec4 texels alone
// ~1.0x (the stores were the cost); keeping each dy row in registers for
// the invocation's next row (half the dy fetches at stride 2) 0.89x, slower
// than without (the carried rows of 24 channels spill). Forward px8 x 4
// rows with x as texels and u64 stores: 0.78x the time of the px8 x 4 rows
// kernel.
// The _pb kernel (backward data, 2026-11-30): dy for all OT channels
// fetched first, then each stride parity class of the input columns (the
// same taps for all its columns) summed KB columns at a time over every
// (o, a, b): each weight read once per KB columns, each dy value once per
// input channel, the sums CIN x KB registers. Bitwise the tap-by-tap
// kernel's result (same terms, same order). On the stem at px8 x 4 rows,
// KB=4: median 0.93x the time of the tap-by-tap _dy4_u64 kernel (0.89 to
// 1.04 over 9 rounds; KB=8 0.88-1.00x). Ablations of the tap-by-tap kernel: without the FMAs
// ~0.45x (the sums, spilled, dominate), without the dy fetches ~0.8x,
// without the stores ~0.9x. Tried and slower: RB*S input rows per step
// from RB+1 dy rows (RB=2: 1.1-1.3x, more live sums), the weights loaded
// from the buffer at each use (2.5-4.5x), px4 with KB=4.
// OG (2026-11-30): the dy of 8 output channels held at a time instead of
// all 24 (gall 144 values, not 432; the sums carried over the groups, bit
// for bit the same). perf showed the dy texel fetches ~16% of the time
// and the unrolled body (~150 KB of code) the rest. CPU time per run
// against KB=4 alone: 0.83x in 4 of 4 rounds, then 1.11x median over 8
// more (og6 1.03x, og4 0.90x and og12 ~1.2x in 4 rounds): within this
// machine's noise, so kb4 stays the default and kb4_og8 a tuner variant.
// Where the time goes (2026-11-30, kb4 on the stem, perf samples of the
// JIT code with its bytes read from the running process and disassembled):
// the unrolled body 62% (fma() is a vmulps and a vaddps there, most likely
// llvmpipe lowering ffma; 45 KB of stack: dy values and weights reloaded, the
// colIn masks blended in at their uses), the vec4 texel fetch, a called
// function (8 lane loads, a transpose), 19%, the u64 stores' per-lane loop
// 15%, the weights' preload 5%. Tried and not faster (five or more
// alternating rounds each, within the noise): the channel groups as a loop
// rather than unrolled (the body 3x / 6x smaller at OG 8 / 4) with their
// weights fetched as vec4 texels a lane each and handed round with
// subgroupShuffle, so not the code size; no colIn mask on the columns
// statically inside (OW a multiple of PX).
//
//! kernel conv2d_stem_forward STEM_FORWARD
//! kernel conv2d_stem_forward_vec4 STEM_FORWARD OUT_VEC4
//! kernel conv2d_stem_forward_bn STEM_FORWARD EPILOGUE
//! kernel conv2d_stem_forward_bn_vec4 STEM_FORWARD EPILOGUE OUT_VEC4
//! kernel conv2d_stem_forward_x4_u64 STEM_FORWARD X_VEC4 STORE_U64
//! kernel conv2d_stem_forward_bn_x4_u64 STEM_FORWARD EPILOGUE X_VEC4 STORE_U64
//! kernel conv2d_stem_backward_data STEM_BACKWARD_DATA
//! kernel conv2d_stem_backward_data_vec4 STEM_BACKWARD_DATA OUT_VEC4
//! kernel conv2d_stem_backward_data_dy4 STEM_BACKWARD_DATA DY_VEC4
//! kernel conv2d_stem_backward_data_dy4_vec4 STEM_BACKWARD_DATA DY_VEC4 OUT_VEC4
//! kernel conv2d_stem_backward_data_dy4_u64 STEM_BACKWARD_DATA DY_VEC4 STORE_U64
//! kernel conv2d_stem_backward_data_dy4_u64_pb STEM_BACKWARD_DATA DY_VEC4 STORE_U64 PARITY_BLOCKED
#extension GL_EXT_control_flow_attributes : require
#ifdef STORE_U64
#extension GL_ARB_gpu_shader_int64 : require
#endif
#include "common.glsl"

layout(local_size_x = 8, local_size_x_id = 5) in;
layout(constant_id = 5) const int LOCAL = 8; // invocations per workgroup
layout(constant_id = 0) const int K = 3;     // kernel size (odd)
layout(constant_id = 1) const int S = 1;     // stride
layout(constant_id = 7) const int CIN = 3;   // input channels (pc.c)
layout(constant_id = 6) const int PX = 4;    // pixel columns per invocation
// The output channels (pc.oc), all of them in every invocation: the
// weight addresses are then constants.
layout(constant_id = 3) const int OT = 8;
// The rows (forward: output rows; backward data: rows of S input rows)
// each invocation computes one after the other, the weights loaded once
// before them: fewer invocations, for a CPU driver whose every workgroup
// costs a call.
layout(constant_id = 8) const int ROWS = 1;
const int P = (K - 1) / 2;
const int KK = K * K;

#ifdef STORE_U64
// pack_pair holds floats a and b as one 64-bit word, a in its low half (the
// first in memory).
uint64_t pack_pair(float a, float b) {
    return packUint2x32(uvec2(floatBitsToUint(a), floatBitsToUint(b)));
}
#endif

// Shapes: input x [N,C,H,W], output y [N,OC,OH,OW] (the conv2d.comp block).
layout(push_constant) uniform Push {
    int n;
    int c;
    int h;
    int w;
    int oc;
    int oh;
    int ow;
    int rows; // unused
} pc;

// invocation is the invocation's index over the grid's x and y (z is the
// forward's output-channel tile).
int invocation() {
    return int((gl_WorkGroupID.x + gl_NumWorkGroups.x * gl_WorkGroupID.y) * uint(LOCAL) + gl_LocalInvocationIndex);
}

#ifdef STEM_FORWARD
// y[n,o,i,j] = sum_{c,a,b} x[n,c,i*S+a-P,j*S+b-P] * w[o,c,a,b].
const int SPAN = (PX - 1) * S + K; // input columns under the PX pixels

#if defined(STORE_U64)
layout(std430, binding = 0) writeonly buffer Y { u64vec4 y8[]; }; // groups of 8 floats
#elif defined(OUT_VEC4)
layout(std430, binding = 0) writeonly buffer Y { vec4 y4[]; };
#else
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
#endif
layout(binding = 1, r32f) readonly uniform imageBuffer x;
layout(std430, binding = 2) readonly buffer Wt { float wt[]; };
#ifdef X_VEC4
// X_VEC4 (W and S*PX multiples of 4): the input columns ow0*S - P + u of a
// row start XOFF past a vec4 texel, the same for every invocation, and are
// read as XTEX whole RGBA32F texels with constant components (a texel of
// which one column is used: one r32f load).
layout(binding = 3) uniform samplerBuffer x4; // x as vec4 texels
const int XOFF = ((-P % 4) + 4) % 4;
const int XTEX = (XOFF + SPAN + 3) / 4;
#define EPI_BINDING 4
#else
#define EPI_BINDING 3
#endif
#include "epilogue.glsl"

// Grid: (x, y) folded over ceil(N*OH/ROWS)*ceil(OW/PX) invocations. An
// invocation past the end computes the last block again and stores
// nothing: no branch before the weight loads, which stay loads for all
// lanes at once.
void main() {
    int blocks = (pc.ow + PX - 1) / PX;
    int rows = pc.n * pc.oh;
    int groups = (rows + ROWS - 1) / ROWS; // of ROWS rows
    int id = invocation();
    bool live = id < groups * blocks;
    id = min(id, groups * blocks - 1);
    int group = id / blocks;
    int ow0 = (id - group * blocks) * PX;

    float wv[OT][CIN * KK];
    [[unroll]] for (int q = 0; q < OT; q++) {
        [[unroll]] for (int e = 0; e < CIN * KK; e++) {
            wv[q][e] = wt[q * CIN * KK + e];
        }
    }
    for (int rr = 0; rr < ROWS; rr++) {
        int row = min(group * ROWS + rr, rows - 1);
        bool store = live && group * ROWS + rr < rows;
        int n = row / pc.oh;
        int oh = row - n * pc.oh;
        float xv[CIN][K][SPAN];
        [[unroll]] for (int c = 0; c < CIN; c++) {
            [[unroll]] for (int a = 0; a < K; a++) {
                int ih = oh * S + a - P;
                bool rowIn = ih >= 0 && ih < pc.h; // masked, not branched
                int base = ((n * CIN + c) * pc.h + clamp(ih, 0, pc.h - 1)) * pc.w;
#ifdef X_VEC4
                // A texel past the row's edge holds only columns outside
                // it (W % 4 == 0): clamped, then masked.
                int t0 = (base + ow0 * S - P - XOFF) / 4;
                int tlo = base / 4;
                int thi = (base + pc.w) / 4 - 1;
                [[unroll]] for (int q = 0; q < XTEX; q++) {
                    int used = min(4, XOFF + SPAN - 4 * q) - max(0, XOFF - 4 * q);
                    vec4 v4 = vec4(0.0);
                    if (used > 1) {
                        v4 = texelFetch(x4, clamp(t0 + q, tlo, thi));
                    }
                    [[unroll]] for (int e = 0; e < 4; e++) {
                        int u = 4 * q + e - XOFF;
                        if (u >= 0 && u < SPAN) {
                            int iw = ow0 * S - P + u;
                            float v = used > 1 ? v4[e] : imageLoad(x, base + clamp(iw, 0, pc.w - 1)).x;
                            xv[c][a][u] = rowIn && iw >= 0 && iw < pc.w ? v : 0.0;
                        }
                    }
                }
#else
                [[unroll]] for (int u = 0; u < SPAN; u++) {
                    int iw = ow0 * S - P + u;
                    float v = imageLoad(x, base + clamp(iw, 0, pc.w - 1)).x;
                    xv[c][a][u] = rowIn && iw >= 0 && iw < pc.w ? v : 0.0;
                }
#endif
            }
        }
        [[unroll]] for (int q = 0; q < OT; q++) {
            float acc[PX];
            [[unroll]] for (int t = 0; t < PX; t++) {
                acc[t] = 0.0;
            }
            [[unroll]] for (int c = 0; c < CIN; c++) {
                [[unroll]] for (int a = 0; a < K; a++) {
                    [[unroll]] for (int b = 0; b < K; b++) {
                        float w = wv[q][(c * K + a) * K + b];
                        [[unroll]] for (int t = 0; t < PX; t++) {
                            acc[t] = fma(w, xv[c][a][t * S + b], acc[t]);
                        }
                    }
                }
            }
            int o = q;
            if (store) {
                int ybase = ((n * pc.oc + o) * pc.oh + oh) * pc.ow + ow0;
#if defined(STORE_U64)
                // OW and PX are multiples of 8: each group of 8 is inside
                // the row or wholly past its end.
                [[unroll]] for (int t = 0; t < PX; t += 8) {
                    if (ow0 + t < pc.ow) {
                        int i8 = (ybase + t) >> 3;
                        vec4 lo = epilogue4(vec4(acc[t], acc[t + 1], acc[t + 2], acc[t + 3]), uint(o), uint(2 * i8));
                        vec4 hi = epilogue4(vec4(acc[t + 4], acc[t + 5], acc[t + 6], acc[t + 7]), uint(o), uint(2 * i8 + 1));
                        y8[i8] = u64vec4(pack_pair(lo.x, lo.y), pack_pair(lo.z, lo.w), pack_pair(hi.x, hi.y), pack_pair(hi.z, hi.w));
                    }
                }
#elif defined(OUT_VEC4)
                // OW and PX are multiples of 4: each vec4 is inside the row
                // or wholly past its end.
                [[unroll]] for (int t = 0; t < PX; t += 4) {
                    if (ow0 + t < pc.ow) {
                        int i4 = (ybase + t) >> 2;
                        vec4 z = vec4(acc[t], acc[t + 1], acc[t + 2], acc[t + 3]);
                        y4[i4] = epilogue4(z, uint(o), uint(i4));
                    }
                }
#else
                [[unroll]] for (int t = 0; t < PX; t++) {
                    if (ow0 + t < pc.ow) {
                        y[ybase + t] = epilogue1(acc[t], uint(o), uint(ybase + t));
                    }
                }
#endif
            }
        }
    }
}
#endif // STEM_FORWARD

#ifdef STEM_BACKWARD_DATA
// dx[n,c,h,v] = sum over (o,a,b) with h = i*S+a-P, v = j*S+b-P of
//               dy[n,o,i,j] * w[o,c,a,b].
// An invocation owns input rows h = S*r + dh (dh < S) and columns
// v = S*m0 + t (t < S*PX). Pixel (dh, t) takes dy row i = r + di and
// column j = m0 + dj where a = dh + P - S*di and b = t + P - S*dj lie in
// [0, K): di from ILO to IHI, dj from ILO to IHI + PX - 1.
const int ILO = -((K - 1 - P) / S); // the least di (a = K-1 at dh = 0)
const int IHI = (S - 1 + P) / S;    // the greatest di (a = 0 at dh = S-1)
const int IROWS = IHI - ILO + 1;
const int JSPAN = IROWS + PX - 1;
const int TW = S * PX; // input columns per invocation
#ifdef PARITY_BLOCKED
// KB: the columns of one parity class summed together (PARITY_BLOCKED).
layout(constant_id = 9) const int KB = 4;
// OG: the output channels whose dy an invocation holds at once (at most
// OT; PARITY_BLOCKED): the sums go on over the next group's.
layout(constant_id = 10) const int OG = 8;
#endif

#if defined(STORE_U64)
layout(std430, binding = 0) writeonly buffer DX { u64vec4 dx8[]; }; // groups of 8 floats
#elif defined(OUT_VEC4)
layout(std430, binding = 0) writeonly buffer DX { vec4 dx4[]; };
#else
layout(std430, binding = 0) writeonly buffer DX { float dx[]; };
#endif
layout(binding = 1, r32f) readonly uniform imageBuffer dy;
layout(std430, binding = 2) readonly buffer Wt { float wt[]; };
#ifdef DY_VEC4
// DY_VEC4 (OW and PX multiples of 4): the dy columns m0 + ILO + u of a row
// start DOFF past a vec4 texel, the same for every invocation, and are
// read as DTEX whole RGBA32F texels with constant components (a texel of
// which one column is used: one r32f load).
layout(binding = 3) uniform samplerBuffer dy4; // dy as vec4 texels
const int DOFF = ((ILO % 4) + 4) % 4;
const int DTEX = (DOFF + JSPAN + 3) / 4;
#endif

// dyRow reads dy[n, o, i, m0 + ILO + u] for u < JSPAN into v, zero
// outside the image (col and colIn: the clamped columns and whether each
// lies inside).
void dyRow(int n, int o, int i, int m0, int col[JSPAN], bool colIn[JSPAN], out float v[JSPAN]) {
    bool rowIn = i >= 0 && i < pc.oh;
    int base = ((n * OT + o) * pc.oh + clamp(i, 0, pc.oh - 1)) * pc.ow;
#ifdef DY_VEC4
    // A texel past the row's edge holds only columns outside
    // it (OW % 4 == 0): clamped, then masked by colIn.
    int t0 = (base + m0 + ILO - DOFF) / 4;
    int tlo = base / 4;
    int thi = (base + pc.ow) / 4 - 1;
    [[unroll]] for (int q = 0; q < DTEX; q++) {
        // Columns u = 4q + e - DOFF of texel q: one used, an r32f load.
        int used = min(4, DOFF + JSPAN - 4 * q) - max(0, DOFF - 4 * q);
        vec4 v4 = vec4(0.0);
        if (used > 1) {
            v4 = texelFetch(dy4, clamp(t0 + q, tlo, thi));
        }
        [[unroll]] for (int e = 0; e < 4; e++) {
            int u = 4 * q + e - DOFF;
            if (u >= 0 && u < JSPAN) {
                float x = used > 1 ? v4[e] : imageLoad(dy, base + col[u]).x;
                v[u] = rowIn && colIn[u] ? x : 0.0;
            }
        }
    }
#else
    [[unroll]] for (int u = 0; u < JSPAN; u++) {
        float x = imageLoad(dy, base + col[u]).x;
        v[u] = rowIn && colIn[u] ? x : 0.0;
    }
#endif
}

// Grid: (x, y) folded over ceil(N*ceil(H/S)/ROWS)*ceil(W/(S*PX))
// invocations.
void main() {
    int rowsIn = (pc.h + S - 1) / S;
    int rows = pc.n * rowsIn; // of S input rows
    int groups = (rows + ROWS - 1) / ROWS;
    int blocks = (pc.w + TW - 1) / TW;
    int id = invocation();
    bool live = id < groups * blocks;
    id = min(id, groups * blocks - 1);
    int group = id / blocks;
    int m0 = (id - group * blocks) * PX;

    float wv[OT * CIN * KK];
    [[unroll]] for (int e = 0; e < OT * CIN * KK; e++) {
        wv[e] = wt[e];
    }
    int col[JSPAN];
    bool colIn[JSPAN];
    [[unroll]] for (int u = 0; u < JSPAN; u++) {
        int j = m0 + ILO + u;
        colIn[u] = j >= 0 && j < pc.ow;
        col[u] = clamp(j, 0, pc.ow - 1);
    }
    for (int rr = 0; rr < ROWS; rr++) {
        int row = min(group * ROWS + rr, rows - 1);
        bool store = live && group * ROWS + rr < rows;
        int n = row / rowsIn;
        int r = row - n * rowsIn;
        float acc[CIN][S][TW];
        [[unroll]] for (int c = 0; c < CIN; c++) {
            [[unroll]] for (int dh = 0; dh < S; dh++) {
                [[unroll]] for (int t = 0; t < TW; t++) {
                    acc[c][dh][t] = 0.0;
                }
            }
        }
#ifdef PARITY_BLOCKED
        // The dy under the block for every output channel first; then for
        // each parity class (dh, tp) of the input pixels (the same taps for
        // all its columns t = tp + S*k), KB columns at a time: CIN x KB
        // sums, each tap's weight read once for the KB columns, each dy
        // value once for the CIN channels. Each sum runs over o, then the
        // taps (a, b), as below: the same result, bit for bit.
        // The output channels go OG at a time (the dy of OG channels held,
        // not all OT): each class's sums start from the previous group's,
        // the same terms in the same order.
        [[unroll]] for (int og = 0; og < OT; og += OG) {
            float gall[OG][IROWS][JSPAN];
            [[unroll]] for (int q = 0; q < OG; q++) {
                if (og + q < OT) {
                    [[unroll]] for (int di = 0; di < IROWS; di++) {
                        dyRow(n, og + q, r + ILO + di, m0, col, colIn, gall[q][di]);
                    }
                }
            }
            [[unroll]] for (int dh = 0; dh < S; dh++) {
                [[unroll]] for (int tp = 0; tp < S; tp++) {
                    [[unroll]] for (int k0 = 0; k0 < PX; k0 += KB) {
                        float sum[CIN][KB];
                        [[unroll]] for (int c = 0; c < CIN; c++) {
                            [[unroll]] for (int k = 0; k < KB; k++) {
                                sum[c][k] = 0.0;
                                if (og > 0 && k0 + k < PX) {
                                    sum[c][k] = acc[c][dh][tp + S * (k0 + k)];
                                }
                            }
                        }
                        [[unroll]] for (int q = 0; q < OG; q++) {
                            int o = og + q;
                            if (o >= OT) {
                                continue;
                            }
                            [[unroll]] for (int a = 0; a < K; a++) {
                                int di = dh + P - a; // S * (i - r)
                                if ((di + S * K) % S != 0) {
                                    continue;
                                }
                                int ri = (di + S * K) / S - K - ILO;
                                [[unroll]] for (int b = 0; b < K; b++) {
                                    int dj = tp + P - b; // S * (j - m0) at k = 0
                                    if ((dj + S * K) % S != 0) {
                                        continue;
                                    }
                                    int cj = (dj + S * K) / S - K - ILO;
                                    [[unroll]] for (int c = 0; c < CIN; c++) {
                                        float w = wv[(o * CIN + c) * KK + a * K + b];
                                        [[unroll]] for (int k = 0; k < KB; k++) {
                                            if (k0 + k < PX) {
                                                sum[c][k] = fma(w, gall[q][ri][cj + k0 + k], sum[c][k]);
                                            }
                                        }
                                    }
                                }
                            }
                        }
                        [[unroll]] for (int c = 0; c < CIN; c++) {
                            [[unroll]] for (int k = 0; k < KB; k++) {
                                if (k0 + k < PX) {
                                    acc[c][dh][tp + S * (k0 + k)] = sum[c][k];
                                }
                            }
                        }
                    }
                }
            }
        }
#else
        [[unroll]] for (int o = 0; o < OT; o++) {
            float g[IROWS][JSPAN];
            [[unroll]] for (int di = 0; di < IROWS; di++) {
                dyRow(n, o, r + ILO + di, m0, col, colIn, g[di]);
            }
            [[unroll]] for (int c = 0; c < CIN; c++) {
                [[unroll]] for (int a = 0; a < K; a++) {
                    [[unroll]] for (int b = 0; b < K; b++) {
                        float w = wv[(o * CIN + c) * KK + a * K + b];
                        // Pixels (dh, t) reached by tap (a, b): dh + P - a
                        // and t + P - b multiples of S (constants here).
                        [[unroll]] for (int dh = 0; dh < S; dh++) {
                            int di = dh + P - a; // S * (i - r)
                            if ((di + S * K) % S != 0) {
                                continue;
                            }
                            int ri = (di + S * K) / S - K - ILO;
                            [[unroll]] for (int t = 0; t < TW; t++) {
                                int dj = t + P - b; // S * (j - m0)
                                if ((dj + S * K) % S != 0) {
                                    continue;
                                }
                                int cj = (dj + S * K) / S - K - ILO;
                                acc[c][dh][t] = fma(w, g[ri][cj], acc[c][dh][t]);
                            }
                        }
                    }
                }
            }
        }
#endif // PARITY_BLOCKED
        if (!store) {
            continue;
        }
        [[unroll]] for (int c = 0; c < CIN; c++) {
            [[unroll]] for (int dh = 0; dh < S; dh++) {
                int h = S * r + dh;
                if (h < pc.h) {
                    int xbase = ((n * CIN + c) * pc.h + h) * pc.w + S * m0;
#if defined(STORE_U64)
                    // W and TW are multiples of 8: each group of 8 is inside
                    // the row or wholly past its end.
                    [[unroll]] for (int t = 0; t < TW; t += 8) {
                        if (S * m0 + t < pc.w) {
                            dx8[(xbase + t) >> 3] = u64vec4(pack_pair(acc[c][dh][t], acc[c][dh][t + 1]), pack_pair(acc[c][dh][t + 2], acc[c][dh][t + 3]),
                                                            pack_pair(acc[c][dh][t + 4], acc[c][dh][t + 5]), pack_pair(acc[c][dh][t + 6], acc[c][dh][t + 7]));
                        }
                    }
#elif defined(OUT_VEC4)
                    // W and TW are multiples of 4: each vec4 is inside the
                    // row or wholly past its end.
                    [[unroll]] for (int t = 0; t < TW; t += 4) {
                        if (S * m0 + t < pc.w) {
                            dx4[(xbase + t) >> 2] = vec4(acc[c][dh][t], acc[c][dh][t + 1], acc[c][dh][t + 2], acc[c][dh][t + 3]);
                        }
                    }
#else
                    [[unroll]] for (int t = 0; t < TW; t++) {
                        if (S * m0 + t < pc.w) {
                            dx[xbase + t] = acc[c][dh][t];
                        }
                    }
#endif
                }
            }
        }
    }
}
#endif // STEM_BACKWARD_DATA

