#version 450
// conv2d_stem_weight: the weight gradient of a k x k convolution (groups 1,
// no bias, padding P = (K-1)/2) with few input channels, as the stem's 3
// (specs: ops/ref/conv2d.go):
//   partial[ch,o,c,a,b] = sum over the output rows (n,i) of chunk ch and
//                         all j of dy[n,o,i,j] * x[n,c,i*S+a-P,j*S+b-P]
// (x outside the image is 0); conv2d_backward_weight_sum (conv2d.comp)
// adds the chunks in order. A GEMM with M = OC, N = C*K*K and a long
// reduction over the pixels, here as a register tile over the taps with
// the lanes over the output channels:
//   - a cluster of LANES invocations owns LANES output channels (one per
//     lane) and CT input channels; each invocation holds CT*K*K sums, of
//     its output channel and every tap of its CT channels;
//   - it walks its chunk's output rows PX pixels at a time (PX is what one
//     gather of LANES input columns covers, SEGS gathers per input row:
//     PX = (SEGS*LANES - K)/S + 1); per step each lane fetches its own
//     channel's PX dy values, and the cluster fetches each input row under
//     the PX pixels once, one column per lane, which subgroupShuffle with a
//     constant lane hands to all (when the cluster is the whole subgroup);
//   - out-of-image taps read a clamped address and are masked to zero
//     where they are fetched (once per gather, not per multiply-add), as
//     are the dy values past the row's end.
// Every sum runs in one invocation in a fixed order: bitwise reproducible.
// Grid: (ceil(OC/LANES), ceil(C/CT), ceil(chunks/CLUSTERS)); cluster q of
// workgroup z owns chunk z*CLUSTERS + q.
//
// Measured on lavapipe (2026-11-29/30, stem 3->24 s2 @128x128 batch 8,
// `bench ops`, a 2-core machine shared with four other builds: load
// average 7-12, wall times 2-4x inflated; CPU time per run from
// `perf stat -e task-clock` over 101 runs minus 1, +-30% between rounds;
// variant numbers in ops/tune_conv2d_stem_weight.go):
//   - against conv2d.comp's pixel-lane weight gradient ("pixels", 8 output
//     channels x 9 taps per lane, the pixels on the lanes): about 1.6x less
//     CPU time (3.0-4.1 ms against 4.7-5.7 per run);
//   - the row loop's integer division (row / OH, a lane-by-lane loop on a
//     SIMD driver) became one division per chunk and a count: the one
//     variant measured before and after went from 3.1-4.0 to 2.1-2.5 ms,
//     another stayed at 3.6-4.0 (within the noise);
//   - gathers per input row: one (PX 3), two (PX 7) and three (PX 11, the
//     default) within the noise of each other; four (PX 15: the unrolled
//     step spills, and 64 columns waste 11) ~1.5x slower;
//   - three output channels per lane of one input channel (a third of the
//     shuffles per multiply-add) no faster than one output channel of all
//     three input channels; two per lane slower (6.2 ms);
//   - one pass (3 workgroups on 2 threads) and 4, 8 or 16 chunks within the
//     noise of each other: the tuner picks;
//   - lanes over the output channels with every lane fetching the same
//     input address (no shuffle) was not tried: on lavapipe an address
//     from a loop is not known uniform, so each such fetch is a full
//     gather (one per multiply-add).
// Where the time went (2026-11-30, perf record of the JIT code of
// stem_x4_split8, then gdb's disassembly): lavapipe lowers fma() to a
// multiply and an add (432 + 432 per step), a constant-lane shuffle is
// ~1.5 instructions, and each texel fetch is a called function (a bounds
// check, eight 16-byte loads, a transpose) whose loads stall: the fetches
// took ~40% of the kernel's time, the unrolled step the rest; the sum
// pass did not show. Hence the _x4 kernel (X_VEC4): one vec4 texel per
// lane and input row per step instead of three gathers, dy as vec4
// texels, PX 16 (4 steps per 64-pixel row, none wasted). CPU time per
// run (`/usr/bin/time` over 301 runs minus 1, `bench ops --only "stem
// 3->24 s2 @128x128 bwd weight tuned"` with EFFV2VK_TUNE_FORCE, 6 rounds
// alternating): stem_split8 4.43 ms median, stem_x4_split8 3.40,
// stem_x4_o3c1_split8 2.72 (three output channels per lane of one input
// channel: a third of the shuffles per multiply-add, x fetched once, not
// once per 8 output channels; 0.61x, faster in 6 of 6 rounds). Slower or
// no better: PX 8 or 12 (half the window unused / 6 steps per row), 4 or
// 16 chunks, o3c3 (81 sums: they spill).
//
//! kernel conv2d_stem_weight
//! kernel conv2d_stem_weight_x4 X_VEC4
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

layout(local_size_x = 8, local_size_x_id = 0) in;
layout(constant_id = 0) const int LOCAL = 8;    // invocations per workgroup (a multiple of SUBGROUP)
layout(constant_id = 1) const int SUBGROUP = 8; // the pipeline's subgroup size
layout(constant_id = 2) const int LANES = 8;    // cluster width (divides SUBGROUP)
layout(constant_id = 3) const int K = 3;        // kernel size (odd)
layout(constant_id = 4) const int S = 1;        // stride
layout(constant_id = 5) const int CT = 3;       // input channels per cluster
layout(constant_id = 6) const int SEGS = 1;     // gathers per input row (SEGS*LANES >= K)
layout(constant_id = 7) const int OT = 1;       // output channels per lane
const int P = (K - 1) / 2;
const int KK = K * K;
#ifdef X_VEC4
layout(constant_id = 8) const int PXV = 16;     // output pixels per step (X_VEC4)
const int PX = PXV;
const int WIN = 4 * LANES; // input columns of one step's window: a texel per lane
#else
const int PX = (SEGS * LANES - K) / S + 1; // output pixels per step
#endif
const int SPAN = (PX - 1) * S + K;        // input columns under them
const int CLUSTERS = LOCAL / LANES;

// Shapes: input x [N,C,H,W], dy [N,OC,OH,OW] (the conv2d.comp block).
layout(push_constant) uniform Push {
    int n;
    int c;
    int h;
    int w;
    int oc;
    int oh;
    int ow;
    int rows; // output rows (n, oh) per chunk
} pc;

layout(std430, binding = 0) writeonly buffer Partial { float partial[]; };
layout(binding = 1, r32f) readonly uniform imageBuffer x;
layout(binding = 2, r32f) readonly uniform imageBuffer dy;
#ifdef X_VEC4
// X_VEC4 (W, OW, PX and S*PX multiples of 4; S*PX <= WIN, P <= S*PX and
// (PX-1)*S + P < WIN, checked in ops): the step at output column j0 reads
// the window of input columns [j0*S, j0*S + WIN) of each input row as one
// RGBA32F texel per lane, and its PX dy values as PX/4 texels per lane.
// The P columns left of the window are the previous step's window's
// columns [S*PX - P, S*PX), carried over in registers (zero, the padding,
// at the row's start): every input row is fetched once per step.
layout(binding = 3) uniform samplerBuffer x4;  // x as vec4 texels
layout(binding = 4) uniform samplerBuffer dy4; // dy as vec4 texels
#endif

void main() {
    int sub = int(gl_SubgroupInvocationID);
    int lane = LANES == SUBGROUP ? sub : sub % LANES;
    // The cluster's first lane: 0 when the cluster is the subgroup, so
    // that every shuffle's lane is a constant.
    int first = LANES == SUBGROUP ? 0 : sub - lane;
    int cluster = int(gl_SubgroupID) * (SUBGROUP / LANES) + sub / LANES;
    int chunk = int(gl_WorkGroupID.z) * CLUSTERS + cluster;
    int rowStart = chunk * pc.rows;
    int rowEnd = min(rowStart + pc.rows, pc.n * pc.oh);
    if (rowStart >= rowEnd) {
        return; // the whole cluster: a chunk past the last
    }
    // The lane's output channels: o0 + q*LANES for q < OT.
    int o0 = int(gl_WorkGroupID.x) * LANES * OT + lane;
    int c0 = int(gl_WorkGroupID.y) * CT;

    float acc[OT][CT][KK];
    [[unroll]] for (int q = 0; q < OT; q++) {
        [[unroll]] for (int ci = 0; ci < CT; ci++) {
            [[unroll]] for (int ab = 0; ab < KK; ab++) {
                acc[q][ci][ab] = 0.0;
            }
        }
    }
    // Image n, output row i: one division for the chunk, then a count (a
    // SIMD driver divides lane by lane).
    int n = rowStart / pc.oh;
    int i = rowStart - n * pc.oh;
    for (int row = rowStart; row < rowEnd; row++) {
        int gbase = ((n * pc.oc + o0) * pc.oh + i) * pc.ow;
        int glast = ((n * pc.oc + pc.oc - 1) * pc.oh + i) * pc.ow; // the last channel's row
#ifdef X_VEC4
        float carry[CT][K][P + 1]; // + 1: no array of size 0 at K = 1
        [[unroll]] for (int ci = 0; ci < CT; ci++) {
            [[unroll]] for (int a = 0; a < K; a++) {
                [[unroll]] for (int p = 0; p <= P; p++) {
                    carry[ci][a][p] = 0.0;
                }
            }
        }
#endif
        for (int j0 = 0; j0 < pc.ow; j0 += PX) {
            float g[OT][PX];
            [[unroll]] for (int q = 0; q < OT; q++) {
                int gb = min(gbase + q * LANES * pc.oh * pc.ow, glast);
#ifdef X_VEC4
                // A texel past the row's end holds only pixels past it.
                [[unroll]] for (int t4 = 0; t4 < PX / 4; t4++) {
                    vec4 v = texelFetch(dy4, (gb + min(j0 + 4 * t4, pc.ow - 4)) >> 2);
                    v = j0 + 4 * t4 < pc.ow ? v : vec4(0.0);
                    [[unroll]] for (int e = 0; e < 4; e++) {
                        g[q][4 * t4 + e] = v[e];
                    }
                }
#else
                [[unroll]] for (int t = 0; t < PX; t++) {
                    float v = imageLoad(dy, gb + min(j0 + t, pc.ow - 1)).x;
                    g[q][t] = j0 + t < pc.ow ? v : 0.0;
                }
#endif
            }
#ifdef X_VEC4
            int wcol = j0 * S + 4 * lane; // this lane's first column in the window
#else
            int col0 = j0 * S - P + lane; // this lane's column in the first gather
#endif
            [[unroll]] for (int ci = 0; ci < CT; ci++) {
                int ch = min(c0 + ci, pc.c - 1);
                [[unroll]] for (int a = 0; a < K; a++) {
                    int ih = i * S + a - P;
                    bool rowIn = ih >= 0 && ih < pc.h;
                    int base = ((n * pc.c + ch) * pc.h + clamp(ih, 0, pc.h - 1)) * pc.w;
                    float xs[SPAN]; // the row's input columns under the PX pixels
#ifdef X_VEC4
                    // This lane's texel of the window: whole in or out of
                    // the row (W % 4 == 0), clamped, then masked.
                    vec4 win = texelFetch(x4, (base + min(wcol, pc.w - 4)) >> 2);
                    win = rowIn && wcol < pc.w ? win : vec4(0.0);
                    [[unroll]] for (int u = 0; u < SPAN; u++) {
                        if (u < P) {
                            xs[u] = carry[ci][a][u];
                        } else {
                            int o = u - P; // offset in the window
                            xs[u] = subgroupShuffle(win[o % 4], uint(first + o / 4));
                        }
                    }
                    [[unroll]] for (int p = 0; p < P; p++) {
                        int o = S * PX - P + p;
                        carry[ci][a][p] = o + P < SPAN ? xs[o + P] : subgroupShuffle(win[o % 4], uint(first + o / 4));
                    }
#else
                    float seg[SEGS];
                    [[unroll]] for (int sg = 0; sg < SEGS; sg++) {
                        int col = col0 + sg * LANES;
                        float v = imageLoad(x, base + clamp(col, 0, pc.w - 1)).x;
                        seg[sg] = rowIn && col >= 0 && col < pc.w ? v : 0.0;
                    }
                    [[unroll]] for (int u = 0; u < SPAN; u++) {
                        xs[u] = subgroupShuffle(seg[u / LANES], uint(first + u % LANES));
                    }
#endif
                    [[unroll]] for (int q = 0; q < OT; q++) {
                        [[unroll]] for (int t = 0; t < PX; t++) {
                            [[unroll]] for (int b = 0; b < K; b++) {
                                acc[q][ci][a * K + b] = fma(g[q][t], xs[t * S + b], acc[q][ci][a * K + b]);
                            }
                        }
                    }
                }
            }
        }
        i++;
        if (i == pc.oh) {
            i = 0;
            n++;
        }
    }
    int slice = chunk * pc.oc * pc.c * KK;
    [[unroll]] for (int q = 0; q < OT; q++) {
        int o = o0 + q * LANES;
        [[unroll]] for (int ci = 0; ci < CT; ci++) {
            int c = c0 + ci;
            if (o < pc.oc && c < pc.c) {
                [[unroll]] for (int ab = 0; ab < KK; ab++) {
                    partial[slice + (o * pc.c + c) * KK + ab] = acc[q][ci][ab];
                }
            }
        }
    }
}
