#version 450
// conv2d: regular k x k convolution (groups 1, no bias, padding P = (K-1)/2),
// NCHW float32, weight [OC,C,K,K]. Forward, backward-data and
// backward-weight side by side (specs: ops/ref/conv2d.go).
//
// All three are implicit GEMMs with register tiles of 8 channels x PX
// pixels per invocation (PX a specialization constant, 4 unless ops'
// autotuner chose another for the forward or backward data). A cluster of 8 invocations owns one tile, and
// subgroupShuffle within the cluster broadcasts what one invocation fetched
// to the others (in the _narrow variants, for subgroups narrower than 8,
// every invocation fetches all 8 values itself: same addresses for the
// whole cluster, no shuffle, no barrier). A workgroup is LOCAL invocations
// (a specialization constant): LOCAL/8 clusters side by side, each inside
// one subgroup (clusters are numbered by subgroup id and subgroup lane, so
// LOCAL must be a multiple of the subgroup size, or one subgroup as on
// lavapipe, where LOCAL = 8 and the lanes of the shuffles are constants):
//   - forward and backward data: each invocation owns PX neighbouring
//     pixels of one row (the cluster 8*PX; ROWS rows one after the other)
//     and fetches the weights of one of the cluster's 8 output channels,
//     broadcast to all;
//   - backward weight: each invocation owns one input channel, all walk the
//     same pixels, and each fetches the dy of one of the 8 output channels,
//     broadcast to all; every sum stays in one invocation (fixed order).
// Inputs are read through R32F storage texel views (a branch-free gather on
// lavapipe, unlike storage-buffer loads at per-invocation addresses; RGBA32F
// fetches of aligned rows and image stores measured no faster there).
// Out-of-image taps read a clamped address and are masked to zero (masking
// measured faster than branching around border rows).
//
// K and S (stride) are specialization constants, so that every tap loop is
// unrolled and every register array is indexed by constants.
//
// Measured on lavapipe (2026-11-29, CPU time per run, medians, shared
// 2-core machine: ratios to the fixed 8x4 tile with scalar stores):
//   - vec4 output stores (_vec4): stem forward 1.38x at PX 4, 1.26x at
//     PX 8 with 16 rows: kept (stores, a lane loop each, bound the stem);
//   - the stem forward (3 channels) with PX 8, 16 rows per cluster and the
//     channel loop unrolled (CIN): 1.57x, its default on CPU drivers; PX 1
//     and 2 slower (0.5-0.75x), PX 8 alone ~0.9x;
//   - Fused-MBConv 48->192 at 32x32 forward: PX 8 0.56x (the 64 sums spill),
//     PX 4 with 4 rows ~1.08x (within the noise); backward data 24->96 at
//     64x64: PX 8 1.22x, PX 2 0.82x. The autotuner picks per shape.
//
//! kernel conv2d_forward FORWARD
//! kernel conv2d_backward_data BACKWARD_DATA
//! kernel conv2d_backward_weight BACKWARD_WEIGHT
//! kernel conv2d_forward_narrow FORWARD NARROW
//! kernel conv2d_backward_data_narrow BACKWARD_DATA NARROW
//! kernel conv2d_backward_weight_narrow BACKWARD_WEIGHT NARROW
//! kernel conv2d_backward_weight_sum WEIGHT_SUM
//! kernel conv2d_backward_weight_pixels WEIGHT_PIXELS
//! kernel conv2d_forward_bn FORWARD EPILOGUE
//! kernel conv2d_forward_bn_narrow FORWARD NARROW EPILOGUE
//! kernel conv2d_forward_vec4 FORWARD OUT_VEC4
//! kernel conv2d_forward_vec4_narrow FORWARD NARROW OUT_VEC4
//! kernel conv2d_forward_bn_vec4 FORWARD EPILOGUE OUT_VEC4
//! kernel conv2d_forward_bn_vec4_narrow FORWARD NARROW EPILOGUE OUT_VEC4
//! kernel conv2d_backward_data_add BACKWARD_DATA ADDEND
//! kernel conv2d_backward_data_add_narrow BACKWARD_DATA NARROW ADDEND
//
// The _bn variants apply the fused epilogue of include/epilogue.glsl
// (eval-mode batch norm, activation, residual) to each output. The _vec4
// variants (OW and PX multiples of 4) write each invocation's outputs as
// whole vec4s: on lavapipe a store at per-invocation addresses is a loop
// over the lanes, whose cost per store, not per float, bounded the stem
// (27 multiply-adds per output): a quarter of the stores made it ~1.6x
// faster (CPU time, 2026-11-29). The backward-data _add variants add a
// tensor of dx's shape to each result (the ADDEND of the same include).
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_shuffle : require
#extension GL_EXT_control_flow_attributes : require
#include "common.glsl"

#ifdef WEIGHT_SUM
// dw[e] = sum over chunks ch (in order) of partial[ch*len + e].
layout(local_size_x = 64, local_size_x_id = 5) in;
layout(constant_id = 5) const int LOCAL = 64; // invocations per workgroup
layout(push_constant) uniform Push {
    int len;    // OC*C*K*K
    int chunks; // number of partial sums per element
} pc;
layout(std430, binding = 0) writeonly buffer DW { float dw[]; };
layout(binding = 1, r32f) readonly uniform imageBuffer partial;

void main() {
    int e = int(linear_invocation());
    if (e >= pc.len) {
        return;
    }
    float sum = 0.0;
    for (int ch = 0; ch < pc.chunks; ch++) {
        sum += imageLoad(partial, ch * pc.len + e).x;
    }
    dw[e] = sum;
}
#elif defined(WEIGHT_PIXELS)
// The weight gradient for few input channels (the stem's 3, where the
// clusters of BACKWARD_WEIGHT, one input channel per lane, leave most
// lanes idle): here the lanes split the pixels instead.
// partial[ch*LOCAL+l, o, c, a, b] = sum over the output rows (n, i) of
//     chunk ch and the pixel blocks j0 = (m*LOCAL + l)*PX .. j0+PX-1 of
//     dy[n,o,i,j] * x[n,c,i*S+a-P,j*S+b-P]
// (invocation l of the workgroup); conv2d_backward_weight_sum then adds the
// chunks*LOCAL partial sums in order. No subgroup operation: any subgroup
// width. Grid: (C, ceil(OC/OT), chunks).
layout(local_size_x = 8, local_size_x_id = 5) in;
layout(constant_id = 5) const int LOCAL = 8;
layout(constant_id = 0) const int K = 3;
layout(constant_id = 1) const int S = 1;
layout(constant_id = 3) const int OT = 8; // output channels per workgroup
layout(constant_id = 6) const int PX = 4; // pixels per step
const int P = (K - 1) / 2;
const int KK = K * K;
const int SPAN = (PX - 1) * S + K;

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

void main() {
    int l = int(gl_LocalInvocationID.x);
    int c = int(gl_WorkGroupID.x);
    int o0 = int(gl_WorkGroupID.y) * OT;
    int chunk = int(gl_WorkGroupID.z);
    int rowEnd = min((chunk + 1) * pc.rows, pc.n * pc.oh);

    float acc[OT][KK];
    [[unroll]] for (int q = 0; q < OT; q++) {
        [[unroll]] for (int ab = 0; ab < KK; ab++) {
            acc[q][ab] = 0.0;
        }
    }
    for (int row = chunk * pc.rows; row < rowEnd; row++) {
        int n = row / pc.oh;
        int i = row - n * pc.oh;
        for (int j0 = l * PX; j0 < pc.ow; j0 += LOCAL * PX) {
            float g[OT][PX];
            [[unroll]] for (int q = 0; q < OT; q++) {
                int gb = ((n * pc.oc + min(o0 + q, pc.oc - 1)) * pc.oh + i) * pc.ow;
                [[unroll]] for (int t = 0; t < PX; t++) {
                    float v = imageLoad(dy, gb + min(j0 + t, pc.ow - 1)).x;
                    g[q][t] = j0 + t < pc.ow ? v : 0.0;
                }
            }
            [[unroll]] for (int a = 0; a < K; a++) {
                int ih = i * S + a - P;
                bool rowIn = ih >= 0 && ih < pc.h;
                int base = ((n * pc.c + c) * pc.h + clamp(ih, 0, pc.h - 1)) * pc.w;
                float xv[SPAN];
                [[unroll]] for (int u = 0; u < SPAN; u++) {
                    int iw = j0 * S - P + u;
                    float v = imageLoad(x, base + clamp(iw, 0, pc.w - 1)).x;
                    xv[u] = rowIn && iw >= 0 && iw < pc.w ? v : 0.0;
                }
                [[unroll]] for (int q = 0; q < OT; q++) {
                    [[unroll]] for (int t = 0; t < PX; t++) {
                        [[unroll]] for (int b = 0; b < K; b++) {
                            acc[q][a * K + b] = fma(g[q][t], xv[t * S + b], acc[q][a * K + b]);
                        }
                    }
                }
            }
        }
    }
    int len = pc.oc * pc.c * KK;
    int slice = (chunk * LOCAL + l) * len;
    [[unroll]] for (int q = 0; q < OT; q++) {
        int o = o0 + q;
        if (o < pc.oc) {
            [[unroll]] for (int ab = 0; ab < KK; ab++) {
                partial[slice + (o * pc.c + c) * KK + ab] = acc[q][ab];
            }
        }
    }
}
#else

#define LANES 8 // invocations per cluster = channels per tile

// Neighbouring pixels per invocation (forward and backward data: of one
// row; backward weight: per step along the row), chosen per device and
// shape by ops (the autotuner's px variants).
layout(constant_id = 6) const int PX = 4;
// The input channels when known as the pipeline is built (forward: so
// that the loop over them unrolls, as for the stem's 3); 0: pc.c.
layout(constant_id = 7) const int CIN = 0;
// Forward and backward data: the output rows each cluster computes one
// after the other (a loop, not unrolled): fewer, longer workgroups, for a
// CPU driver whose every workgroup costs a call (ops' rows variants).
layout(constant_id = 8) const int ROWS = 1;

// Invocations per workgroup: CLUSTERS clusters of LANES.
layout(local_size_x = LANES, local_size_x_id = 5) in;
layout(constant_id = 5) const int LOCAL = LANES;
const int CLUSTERS = LOCAL / LANES;

// SLOT is the invocation's place in the workgroup as the clusters count it:
// with NARROW its local index; otherwise its subgroup lane, numbered on
// across subgroups when there are several clusters, so that a cluster never
// straddles two subgroups. LANE (slot mod LANES) is its lane in its
// cluster, CLUSTER its cluster, LANE_BASE the subgroup lane of its
// cluster's lane 0 (constants when CLUSTERS is 1).
// OF_LANE(arr, all, n, i, j) is arr[i] of lane j: a shuffle, or with
// NARROW all[j * n + i], which the invocation fetched itself.
#ifdef NARROW
#define SLOT int(gl_LocalInvocationID.x)
#define LANE_BASE 0
#define OF_LANE(arr, all, n, i, j) all[(j) * n + (i)]
#else
#define SLOT (CLUSTERS == 1 ? int(gl_SubgroupInvocationID) : int(gl_SubgroupID * gl_SubgroupSize + gl_SubgroupInvocationID))
#define LANE_BASE (CLUSTERS == 1 ? 0 : int(gl_SubgroupInvocationID) & ~(LANES - 1))
#define OF_LANE(arr, all, n, i, j) subgroupShuffle(arr[i], uint(laneBase + (j)))
#endif
#define LANE (CLUSTERS == 1 ? SLOT : SLOT & (LANES - 1))
#define CLUSTER (CLUSTERS == 1 ? 0 : SLOT / LANES)

layout(constant_id = 0) const int K = 3; // kernel size (odd)
layout(constant_id = 1) const int S = 1; // stride
const int P = (K - 1) / 2;
const int KK = K * K;

// Shapes: input x [N,C,H,W], output y [N,OC,OH,OW].
layout(push_constant) uniform Push {
    int n;
    int c;
    int h;
    int w;
    int oc;
    int oh;
    int ow;
    int rows; // backward weight: output rows (n, oh) per chunk
} pc;

#ifdef FORWARD
// y[n,o,i,j] = sum_{c,a,b} x[n,c,i*S+a-P,j*S+b-P] * w[o,c,a,b].
const int SPAN = (PX - 1) * S + K; // input columns under one invocation's pixels

#ifdef OUT_VEC4
layout(std430, binding = 0) writeonly buffer Y { vec4 y4[]; };
#else
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
#endif
layout(binding = 1, r32f) readonly uniform imageBuffer x;
layout(binding = 2, r32f) readonly uniform imageBuffer wt;
#define EPI_BINDING 3
#include "epilogue.glsl"

void outputRow(int row, int lane, int laneBase) {
    int ow0 = (int(gl_WorkGroupID.x) * LANES + lane) * PX;
    int n = row / pc.oh;
    int oh = row - n * pc.oh;
    int o0 = int(gl_WorkGroupID.z) * LANES;
    int wo = min(o0 + lane, pc.oc - 1); // this invocation's weight channel

    int col[SPAN];
    bool colIn[SPAN];
    [[unroll]] for (int u = 0; u < SPAN; u++) {
        int iw = ow0 * S - P + u;
        colIn[u] = iw >= 0 && iw < pc.w;
        col[u] = clamp(iw, 0, pc.w - 1);
    }

    float acc[LANES][PX];
    [[unroll]] for (int j = 0; j < LANES; j++) {
        [[unroll]] for (int t = 0; t < PX; t++) {
            acc[j][t] = 0.0;
        }
    }
    int cin = CIN > 0 ? CIN : pc.c;
    for (int c = 0; c < cin; c++) {
        float wv[KK];
        int wbase = (wo * cin + c) * KK;
        [[unroll]] for (int ab = 0; ab < KK; ab++) {
            wv[ab] = imageLoad(wt, wbase + ab).x;
        }
#ifdef NARROW
        float wall[LANES * KK]; // the weights of all the cluster's channels
        [[unroll]] for (int j = 0; j < LANES; j++) {
            int wb = (min(o0 + j, pc.oc - 1) * cin + c) * KK;
            [[unroll]] for (int ab = 0; ab < KK; ab++) {
                wall[j * KK + ab] = imageLoad(wt, wb + ab).x;
            }
        }
#endif
        [[unroll]] for (int a = 0; a < K; a++) {
            int ih = oh * S + a - P;
            bool rowIn = ih >= 0 && ih < pc.h; // masked, not branched: faster
            int base = ((n * cin + c) * pc.h + clamp(ih, 0, pc.h - 1)) * pc.w;
            float xv[SPAN];
            [[unroll]] for (int u = 0; u < SPAN; u++) {
                float v = imageLoad(x, base + col[u]).x;
                xv[u] = colIn[u] && rowIn ? v : 0.0;
            }
            [[unroll]] for (int b = 0; b < K; b++) {
                [[unroll]] for (int j = 0; j < LANES; j++) {
                    float wj = OF_LANE(wv, wall, KK, a * K + b, j);
                    [[unroll]] for (int t = 0; t < PX; t++) {
                        acc[j][t] = fma(wj, xv[t * S + b], acc[j][t]);
                    }
                }
            }
        }
    }
    [[unroll]] for (int j = 0; j < LANES; j++) {
        int o = o0 + j;
        if (o < pc.oc) {
            int ybase = ((n * pc.oc + o) * pc.oh + oh) * pc.ow + ow0;
#ifdef OUT_VEC4
            // OW and PX are multiples of 4: each vec4 is inside the row
            // or wholly past its end.
            [[unroll]] for (int t = 0; t < PX; t += 4) {
                if (ow0 + t < pc.ow) {
                    int i4 = (ybase + t) >> 2;
                    vec4 z = vec4(acc[j][t], acc[j][t + 1], acc[j][t + 2], acc[j][t + 3]);
                    y4[i4] = epilogue4(z, uint(o), uint(i4));
                }
            }
#else
            [[unroll]] for (int t = 0; t < PX; t++) {
                if (ow0 + t < pc.ow) {
                    y[ybase + t] = epilogue1(acc[j][t], uint(o), uint(ybase + t));
                }
            }
#endif
        }
    }
}

// Grid: (ceil(OW/(8*PX)), ceil(N*OH/(CLUSTERS*ROWS)), ceil(OC/8)); cluster q
// of workgroup y owns output rows (y*CLUSTERS + q)*ROWS + r, r < ROWS.
void main() {
    int rows = pc.n * pc.oh;
    int first = (int(gl_WorkGroupID.y) * CLUSTERS + CLUSTER) * ROWS;
    if (CLUSTERS > 1 && first >= rows) {
        return; // the whole cluster: no lane a shuffle reads is gone
    }
    if (ROWS == 1) {
        outputRow(first, LANE, LANE_BASE); // no loop around the tile
        return;
    }
    int last = min(first + ROWS, rows);
    for (int row = first; row < last; row++) { // uniform in the cluster
        outputRow(row, LANE, LANE_BASE);
    }
}
#endif // FORWARD

#ifdef BACKWARD_DATA
// dx[n,c,h,v] = sum over (o,a,b) with h = i*S+a-P, v = j*S+b-P of
//               dy[n,o,i,j] * w[o,c,a,b].
// One dispatch per residue (RH, R) = (h mod S, v mod S), both
// specialization constants: then the taps (a, b) that reach (h, v), and the
// offsets of the dy columns they read, are the same for every invocation
// and known when the pipeline is built. Invocation pixels: row h = RH + S*r,
// columns v = R + S*(m0+t), t < PX.
// Grid: (ceil(ceil((W-R)/S)/(8*PX)), ceil(N*ceil((H-RH)/S)/(CLUSTERS*ROWS)),
// ceil(C/8)); cluster q of workgroup y owns rows (y*CLUSTERS + q)*ROWS + r.
layout(constant_id = 2) const int R = 0;
layout(constant_id = 4) const int RH = 0;
// dy columns m + JLO .. m + JHI feed pixel m (b from K-1 down to 0).
const int JLO = R >= P ? (R - P + S - 1) / S : -((P - R) / S);
const int JHI = (R + P) / S;
const int JSPAN = JHI - JLO + PX;

layout(std430, binding = 0) writeonly buffer DX { float dx[]; };
layout(binding = 1, r32f) readonly uniform imageBuffer dy;
layout(binding = 2, r32f) readonly uniform imageBuffer wt;
// _add: dx = sum + addend (include/epilogue.glsl's ADDEND, binding 3).
#define EPI_BINDING 3
#include "epilogue.glsl"

void inputRow(int row, int rows, int lane, int laneBase) {
    int m0 = (int(gl_WorkGroupID.x) * LANES + lane) * PX;
    int n = row / rows;
    int h = RH + S * (row - n * rows);
    int c0 = int(gl_WorkGroupID.z) * LANES;
    int wc = min(c0 + lane, pc.c - 1); // this invocation's weight channel

    int col[JSPAN];
    bool colIn[JSPAN];
    [[unroll]] for (int u = 0; u < JSPAN; u++) {
        int j = m0 + JLO + u;
        colIn[u] = j >= 0 && j < pc.ow;
        col[u] = clamp(j, 0, pc.ow - 1);
    }

    float acc[LANES][PX];
    [[unroll]] for (int j = 0; j < LANES; j++) {
        [[unroll]] for (int t = 0; t < PX; t++) {
            acc[j][t] = 0.0;
        }
    }
    for (int o = 0; o < pc.oc; o++) {
        float wv[KK];
        int wbase = (o * pc.c + wc) * KK;
        [[unroll]] for (int ab = 0; ab < KK; ab++) {
            wv[ab] = imageLoad(wt, wbase + ab).x;
        }
#ifdef NARROW
        float wall[LANES * KK]; // the weights of all the cluster's channels
        [[unroll]] for (int j = 0; j < LANES; j++) {
            int wb = (o * pc.c + min(c0 + j, pc.c - 1)) * KK;
            [[unroll]] for (int ab = 0; ab < KK; ab++) {
                wall[j * KK + ab] = imageLoad(wt, wb + ab).x;
            }
        }
#endif
        [[unroll]] for (int a = 0; a < K; a++) {
            // h = i*S + a - P  <=>  i = (h + P - a)/S when divisible.
            if ((RH + P - a + S * K) % S != 0) {
                continue; // known when the pipeline is built
            }
            int i = (h + P - a + S * K) / S - K;
            bool rowIn = i >= 0 && i < pc.oh;
            int base = ((n * pc.oc + o) * pc.oh + clamp(i, 0, pc.oh - 1)) * pc.ow;
            float gv[JSPAN];
            [[unroll]] for (int u = 0; u < JSPAN; u++) {
                float v = imageLoad(dy, base + col[u]).x;
                gv[u] = colIn[u] && rowIn ? v : 0.0;
            }
            [[unroll]] for (int b = 0; b < K; b++) {
                // v = j*S + b - P  <=>  j = m + (R + P - b)/S when divisible.
                int d = R + P - b;
                if ((d + S * K) % S != 0) {
                    continue; // known when the pipeline is built
                }
                int off = (d + S * K) / S - K - JLO;
                [[unroll]] for (int j = 0; j < LANES; j++) {
                    float wj = OF_LANE(wv, wall, KK, a * K + b, j);
                    [[unroll]] for (int t = 0; t < PX; t++) {
                        acc[j][t] = fma(wj, gv[off + t], acc[j][t]);
                    }
                }
            }
        }
    }
    [[unroll]] for (int j = 0; j < LANES; j++) {
        int c = c0 + j;
        if (c < pc.c) {
            int xbase = ((n * pc.c + c) * pc.h + h) * pc.w;
            [[unroll]] for (int t = 0; t < PX; t++) {
                int v = R + S * (m0 + t);
                if (v < pc.w) {
                    dx[xbase + v] = epilogue1(acc[j][t], uint(c), uint(xbase + v));
                }
            }
        }
    }
}

void main() {
    int rows = (pc.h - RH + S - 1) / S; // rows h = RH + S*r of one image
    int first = (int(gl_WorkGroupID.y) * CLUSTERS + CLUSTER) * ROWS;
    if (CLUSTERS > 1 && first >= pc.n * rows) {
        return; // the whole cluster
    }
    if (ROWS == 1) {
        inputRow(first, rows, LANE, LANE_BASE); // no loop around the tile
        return;
    }
    int last = min(first + ROWS, pc.n * rows);
    for (int row = first; row < last; row++) { // uniform in the cluster
        inputRow(row, rows, LANE, LANE_BASE);
    }
}
#endif // BACKWARD_DATA

#ifdef BACKWARD_WEIGHT
// partial[ch,o,c,a,b] = sum over output rows (n,i) of chunk ch and all j of
//                       dy[n,o,i,j] * x[n,c,i*S+a-P,j*S+b-P].
// A cluster owns 8 input channels (one per invocation) and OT <= 8 output
// channels. All its invocations walk the same pixels, PX at a time: each
// fetches its own channel's input patch and the dy of one output channel,
// which subgroupShuffle broadcasts to the others. Each sum runs in one
// invocation in a fixed order: bitwise reproducible.
// Grid: (ceil(ceil(C/8)/CLUSTERS), ceil(OC/OT), chunks); cluster q of
// workgroup x owns the input channels from (x*CLUSTERS + q)*8.
layout(constant_id = 3) const int OT = 8; // output channels per cluster
const int SPAN = (PX - 1) * S + K;

layout(std430, binding = 0) writeonly buffer Partial { float partial[]; };
layout(binding = 1, r32f) readonly uniform imageBuffer x;
layout(binding = 2, r32f) readonly uniform imageBuffer dy;

void main() {
    int lane = LANE;
    int laneBase = LANE_BASE;
    int c0 = (int(gl_WorkGroupID.x) * CLUSTERS + CLUSTER) * LANES;
    if (CLUSTERS > 1 && c0 >= pc.c) {
        return; // the whole cluster
    }
    int c = min(c0 + lane, pc.c - 1);
    int o0 = int(gl_WorkGroupID.y) * OT;
    int go = min(o0 + lane, pc.oc - 1); // the dy channel this invocation fetches
    int chunk = int(gl_WorkGroupID.z);
    int rowEnd = min((chunk + 1) * pc.rows, pc.n * pc.oh);

    float acc[OT][KK];
    [[unroll]] for (int q = 0; q < OT; q++) {
        [[unroll]] for (int ab = 0; ab < KK; ab++) {
            acc[q][ab] = 0.0;
        }
    }
    for (int row = chunk * pc.rows; row < rowEnd; row++) {
        int n = row / pc.oh;
        int i = row - n * pc.oh;
        int gbase = ((n * pc.oc + go) * pc.oh + i) * pc.ow;
        for (int j0 = 0; j0 < pc.ow; j0 += PX) {
            float gl[PX];
            [[unroll]] for (int t = 0; t < PX; t++) {
                float v = imageLoad(dy, gbase + min(j0 + t, pc.ow - 1)).x;
                gl[t] = j0 + t < pc.ow ? v : 0.0;
            }
#ifdef NARROW
            float gall[OT * PX]; // the dy of all the cluster's output channels
            [[unroll]] for (int q = 0; q < OT; q++) {
                int gb = ((n * pc.oc + min(o0 + q, pc.oc - 1)) * pc.oh + i) * pc.ow;
                [[unroll]] for (int t = 0; t < PX; t++) {
                    float v = imageLoad(dy, gb + min(j0 + t, pc.ow - 1)).x;
                    gall[q * PX + t] = j0 + t < pc.ow ? v : 0.0;
                }
            }
#endif
            [[unroll]] for (int a = 0; a < K; a++) {
                int ih = i * S + a - P;
                bool rowIn = ih >= 0 && ih < pc.h;
                int base = ((n * pc.c + c) * pc.h + clamp(ih, 0, pc.h - 1)) * pc.w;
                float xv[SPAN];
                [[unroll]] for (int u = 0; u < SPAN; u++) {
                    int iw = j0 * S - P + u;
                    float v = imageLoad(x, base + clamp(iw, 0, pc.w - 1)).x;
                    xv[u] = rowIn && iw >= 0 && iw < pc.w ? v : 0.0;
                }
                [[unroll]] for (int q = 0; q < OT; q++) {
                    [[unroll]] for (int t = 0; t < PX; t++) {
                        float g = OF_LANE(gl, gall, PX, t, q);
                        [[unroll]] for (int b = 0; b < K; b++) {
                            acc[q][a * K + b] = fma(g, xv[t * S + b], acc[q][a * K + b]);
                        }
                    }
                }
            }
        }
    }
    if (c0 + lane < pc.c) {
        int len = pc.oc * pc.c * KK;
        [[unroll]] for (int q = 0; q < OT; q++) {
            int o = o0 + q;
            if (o < pc.oc) {
                [[unroll]] for (int ab = 0; ab < KK; ab++) {
                    partial[chunk * len + (o * pc.c + c) * KK + ab] = acc[q][ab];
                }
            }
        }
    }
}
#endif // BACKWARD_WEIGHT
#endif // WEIGHT_SUM, WEIGHT_PIXELS
