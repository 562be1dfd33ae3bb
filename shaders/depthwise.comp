#version 450
// Depthwise k x k convolution (one filter per channel, no bias), stride S,
// symmetric zero padding P = (K-1)/2, NCHW float32:
//
//   forward          y[n,c,i,j]  = sum_{a,b} x[n,c,i*S+a-P, j*S+b-P] * w[c,a,b]
//   backward data    dx[n,c,h,v] = sum over i*S+a-P = h, j*S+b-P = v of dy[n,c,i,j] * w[c,a,b]
//   backward weight  dw[c,a,b]   = sum_{n,i,j} dy[n,c,i,j] * x[n,c,i*S+a-P, j*S+b-P]
//
// K and S are compile-time defines (one kernel per pair) so that every loop
// below unrolls and every private array is indexed by constants only (they
// stay in registers). Each invocation owns a tile of ROWS rows x 4 columns of
// its output (or, for backward weight, of dy) and streams the input rows the
// tile needs, one row at a time, through a small window; elements outside the
// image read as zero. Inputs are read through r32f storage texel buffers
// (imageLoad is a branch-free gather on lavapipe; texelFetch of an RGBA32F
// view with a dynamic component measured 2x slower here, since rows need not
// start on a vec4). When the plane's width is a multiple of 4 (VEC4_ROWS,
// VEC4_DY), the columns of a window row that start on a vec4 are read as
// whole RGBA32F texels with constant components instead: 3 fetches instead
// of 6 for a k3 s1 window row, 3 instead of 9 at stride 2 (with the
// divisions below: 1.1-2.3x less time on a loaded lavapipe at
// EfficientNetV2-S's shapes, medians of alternated runs; every element
// alone, the scalar_loads variant, stays slower). Outputs go
// to storage buffers, one vec4 per tile row when the width is a multiple of
// 4 (imageStore measured ~3x slower on lavapipe); on lavapipe these
// stores, a loop over the lanes, are now most of the forward and backward
// data time.
// Forward and backward data: an invocation computes one tile position in
// pc.per consecutive planes (FOR_EACH_TILE); several tiles per invocation
// amortize its start-up cost, which on lavapipe is about that of a tile
// (per 1 measured 1.5-2x slower than 16). The tile position and first
// channel are divided out once (divu); the earlier layout, tiles i,
// i + span, ..., divided three times per tile, lane by lane on SIMD drivers.
// ROWS, the local size and pc.per are chosen per device in ops and tuned
// (ops/tune_depthwise.go). BY_IMAGE (one channel's planes in consecutive
// images, its filter read once) is a tuned variant, not the default: on a
// loaded lavapipe it measured within noise of consecutive planes at batch 8.
// STORE_IMAGE (vec4 rows through an RGBA32F imageStore) is a tuned variant
// too: on lavapipe it measured no faster than the storage-buffer stores.
//
// Backward weight is deterministic: one workgroup per channel; invocation l
// sums the tiles l, l+L, l+2L, ... of that channel (all images) in order, then
// the workgroup adds the L partial sums in lane order through shared memory.
//
//! kernel depthwise_forward_k3_s1 FORWARD K=3 S=1
//! kernel depthwise_forward_k3_s2 FORWARD K=3 S=2
//! kernel depthwise_forward_k5_s1 FORWARD K=5 S=1
//! kernel depthwise_forward_k5_s2 FORWARD K=5 S=2
//! kernel depthwise_backward_data_k3_s1 BACKWARD_DATA K=3 S=1
//! kernel depthwise_backward_data_k3_s2 BACKWARD_DATA K=3 S=2
//! kernel depthwise_backward_data_k5_s1 BACKWARD_DATA K=5 S=1
//! kernel depthwise_backward_data_k5_s2 BACKWARD_DATA K=5 S=2
//! kernel depthwise_backward_weight_k3_s1 BACKWARD_WEIGHT K=3 S=1
//! kernel depthwise_backward_weight_k3_s2 BACKWARD_WEIGHT K=3 S=2
//! kernel depthwise_backward_weight_k5_s1 BACKWARD_WEIGHT K=5 S=1
//! kernel depthwise_backward_weight_k5_s2 BACKWARD_WEIGHT K=5 S=2
//! kernel depthwise_backward_data_k3_s1_u64 BACKWARD_DATA K=3 S=1 STORE_U64
//! kernel depthwise_backward_data_k3_s2_u64 BACKWARD_DATA K=3 S=2 STORE_U64
//! kernel depthwise_backward_data_k5_s1_u64 BACKWARD_DATA K=5 S=1 STORE_U64
//! kernel depthwise_backward_data_k5_s2_u64 BACKWARD_DATA K=5 S=2 STORE_U64
//! kernel depthwise_forward_k3_s1_bn FORWARD K=3 S=1 EPILOGUE
//! kernel depthwise_forward_k3_s2_bn FORWARD K=3 S=2 EPILOGUE
//! kernel depthwise_forward_k5_s1_bn FORWARD K=5 S=1 EPILOGUE
//! kernel depthwise_forward_k5_s2_bn FORWARD K=5 S=2 EPILOGUE
//
// The _bn variants apply the fused epilogue of include/epilogue.glsl
// (eval-mode batch norm, activation, residual) to each output.
//
// The backward data _u64 variants (STORE_U64, for devices with shaderInt64
// and planes whose width is a multiple of 8) have tiles of 8 columns and
// write each tile row as one u64vec4 (8 floats, bit-packed in pairs): on
// lavapipe a storage-buffer store is a loop over the lanes with a bounds
// check per component, so a row then costs one loop of 4 components instead
// of two of 4. The stores were ~3/4 of the stride-2 backward data time there
// (a variant storing one float per tile took ~0.4 of the time); u64vec2
// stores of 4-column rows alone measured ~15% less time. At stride 2 the
// 8-column tile also starts its dy columns on a vec4 texel (k3), so they
// are read as one vec4 and one scalar texel per row instead of 3 scalars
// per 4 columns. Measured on a loaded lavapipe (2026-11-29, medians of 6
// alternated runs): dw3x3 s2 256ch @16x16 backward data 1.13 -> 0.54 ms
// (the unchanged forward: 0.49 and 0.52 ms in the same runs); at stride 1
// the CPU time per run fell by a third to a half.
#extension GL_EXT_control_flow_attributes : require
#ifdef STORE_U64
#extension GL_ARB_gpu_shader_int64 : require
#endif
#include "common.glsl"

// Local size: one subgroup on a CPU driver (8 on lavapipe), more on GPUs.
layout(local_size_x = 64, local_size_x_id = 0) in;
layout(constant_id = 0) const uint LOCAL = 64;
// Rows of an invocation's tile (a multiple of S), chosen per device in ops
// (depthwiseRows); columns are 4 (8 in the _u64 variants).
layout(constant_id = 1) const int ROWS = 8;
#ifdef STORE_U64
#define COLS 8
#else
#define COLS 4
#endif
// VEC4_ROWS: the rows that an invocation streams (x for forward and backward
// weight, dy for backward data at stride 1) are read, where they can be, as
// whole vec4 texels: the plane's width is a multiple of 4 (ops sets it).
// VEC4_DY: backward weight reads its dy tile rows as vec4 texels (dy's
// width is a multiple of 4).
layout(constant_id = 2) const bool VEC4_ROWS = false;
layout(constant_id = 3) const bool VEC4_DY = false;
// BY_IMAGE: a forward or backward-data invocation's planes are one
// channel's in pc.per consecutive images (its weights read once), not
// pc.per consecutive planes.
layout(constant_id = 4) const bool BY_IMAGE = false;
// STORE_IMAGE: forward and backward data write their vec4 rows through an
// RGBA32F storage texel view (imageStore) instead of the storage buffer.
layout(constant_id = 5) const bool STORE_IMAGE = false;

#define P ((K - 1) / 2)

layout(push_constant) uniform Push {
    uint planes;  // N*C for forward and backward data, N for backward weight
    uint C;       // channels
    uint H;       // input height
    uint W;       // input width
    uint OH;      // output height
    uint OW;      // output width
    uint tilesH;  // tiles down the tiled tensor (output, dx, or dy)
    uint tilesW;  // tiles across it
    uint span;    // invocations (forward, backward data)
    uint per;     // planes per invocation (forward, backward data)
} pc;

#if defined(FORWARD) || defined(BACKWARD_WEIGHT)
// Input window of one output tile: rows oh0*S-P ..., columns ow0*S-P ...
#define WIN_ROWS ((ROWS - 1) * S + K)
#define WIN_COLS ((COLS - 1) * S + K)
#endif

// Forward and backward data write their output through two views of the
// same tensor: vec4 stores when its rows are whole vec4s (width % 4 == 0),
// scalar stores otherwise.
#if defined(FORWARD)
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
layout(std430, binding = 1) writeonly buffer Y4 { vec4 y4[]; };
layout(r32f, binding = 2) readonly uniform imageBuffer x;
layout(r32f, binding = 3) readonly uniform imageBuffer w;
layout(binding = 4) uniform samplerBuffer x4; // x as vec4 texels
layout(rgba32f, binding = 5) writeonly uniform imageBuffer y4i; // y as vec4 texels
#define EPI_BINDING 6
#include "epilogue.glsl"
#elif defined(BACKWARD_DATA)
layout(std430, binding = 0) writeonly buffer DX { float dx[]; };
#ifdef STORE_U64
layout(std430, binding = 1) writeonly buffer DX8 { u64vec4 dx8[]; }; // dx as groups of 8 floats
#else
layout(std430, binding = 1) writeonly buffer DX4 { vec4 dx4[]; };
#endif
layout(r32f, binding = 2) readonly uniform imageBuffer dy;
layout(r32f, binding = 3) readonly uniform imageBuffer w;
layout(binding = 4) uniform samplerBuffer dy4; // dy as vec4 texels
layout(rgba32f, binding = 5) writeonly uniform imageBuffer dx4i; // dx as vec4 texels
#else
layout(std430, binding = 0) writeonly buffer DW { float dw[]; };
layout(r32f, binding = 1) readonly uniform imageBuffer x;
layout(r32f, binding = 2) readonly uniform imageBuffer dy;
layout(binding = 3) uniform samplerBuffer x4;  // x as vec4 texels
layout(binding = 4) uniform samplerBuffer dy4; // dy as vec4 texels
#endif

// STORE_TILE writes the ROWS x COLS tile acc at (row0, col0) of the
// rows x cols plane starting at element base, skipping what lies outside.
#define STORE_TILE(out1, out4, out4i, base, row0, col0, rows, cols, acc)               \
    if ((cols) % 4u == 0u) {                                                         \
        [[unroll]] for (int r = 0; r < ROWS; ++r) {                                  \
            if ((row0) + r < int(rows)) {                                            \
                uint at = (base) + uint((row0) + r) * (cols) + uint(col0);           \
                vec4 v = vec4(acc[r * COLS], acc[r * COLS + 1], acc[r * COLS + 2], acc[r * COLS + 3]); \
                if (STORE_IMAGE) {                                                   \
                    imageStore(out4i, int(at >> 2), v);                              \
                } else {                                                             \
                    out4[at >> 2] = v;                                               \
                }                                                                    \
            }                                                                        \
        }                                                                            \
    } else {                                                                         \
        [[unroll]] for (int r = 0; r < ROWS; ++r) {                                  \
            [[unroll]] for (int q = 0; q < COLS; ++q) {                              \
                if ((row0) + r < int(rows) && (col0) + q < int(cols)) {              \
                    out1[(base) + uint((row0) + r) * (cols) + uint((col0) + q)] = acc[r * COLS + q]; \
                }                                                                    \
            }                                                                        \
        }                                                                            \
    }

// LOAD sets out to element (row, col) of the rows x cols plane starting at base,
// or to 0 outside it. Outside lanes read element 0, so none reads out of range.
#define LOAD(img, base, row, col, rows, cols, out)                                   \
    {                                                                                \
        bool inside_ = (row) >= 0 && (row) < int(rows) && (col) >= 0 && (col) < int(cols); \
        int at_ = inside_ ? int(base) + (row) * int(cols) + (col) : 0;               \
        float v_ = imageLoad(img, at_).r;                                            \
        out = inside_ ? v_ : 0.0;                                                    \
    }

// LOAD4 sets out[at..at+3] to the vec4 texel of img4 holding elements
// (row, col..col+3) of the rows x cols plane starting at base (col and the
// plane's width multiples of 4, so a texel is inside or outside as a
// whole), or to 0 outside.
#define LOAD4(img4, base, row, col, rows, cols, out, at)                             \
    {                                                                                \
        bool inside_ = (row) >= 0 && (row) < int(rows) && (col) < int(cols);         \
        int at_ = inside_ ? (int(base) + (row) * int(cols) + (col)) >> 2 : 0;        \
        vec4 v_ = texelFetch(img4, at_);                                             \
        v_ = inside_ ? v_ : vec4(0.0);                                               \
        out[(at)] = v_.x;                                                            \
        out[(at) + 1] = v_.y;                                                        \
        out[(at) + 2] = v_.z;                                                        \
        out[(at) + 3] = v_.w;                                                        \
    }

// LOAD_ROW sets out[0..N) to elements (row, col0 .. col0+N-1) of the
// rows x cols plane starting at base (0 outside). With VEC4_ROWS the
// columns from col0 + LEAD on (a multiple of 4) are read as whole vec4
// texels of img4, the others (LEAD before, the rest after) one by one.
#define LOAD_ROW(img, img4, base, row, col0, rows, cols, out, N, LEAD)                \
    if (VEC4_ROWS) {                                                                 \
        [[unroll]] for (int j = 0; j < (N); ++j) {                                   \
            if (j < (LEAD) || j >= (LEAD) + 4 * (((N) - (LEAD)) / 4)) {              \
                LOAD(img, base, row, (col0) + j, rows, cols, out[j]);                \
            }                                                                        \
        }                                                                            \
        [[unroll]] for (int m = 0; m < ((N) - (LEAD)) / 4; ++m) {                    \
            LOAD4(img4, base, row, (col0) + (LEAD) + 4 * m, rows, cols, out, (LEAD) + 4 * m); \
        }                                                                            \
    } else {                                                                         \
        [[unroll]] for (int j = 0; j < (N); ++j) {                                   \
            LOAD(img, base, row, (col0) + j, rows, cols, out[j]);                    \
        }                                                                            \
    }

#if defined(FORWARD) || defined(BACKWARD_DATA)
// FOR_EACH_TILE calls tile(plane, channel, row0, col0) for this invocation's
// tiles: invocation i owns tile position i % tiles of each plane in the
// group i / tiles of pc.per consecutive planes, so the lanes of a subgroup
// work on neighbouring tiles of the same planes, and the only divisions
// (divu: a multiply and two compares) are done once.
#define FOR_EACH_TILE(tile)                                                          \
    uint i_ = linear_invocation();                                                   \
    if (i_ >= pc.span) {                                                             \
        return;                                                                      \
    }                                                                                \
    uint tiles_ = pc.tilesH * pc.tilesW;                                             \
    uint group_ = divu(i_, tiles_, 1.0 / float(tiles_));                             \
    uint t_ = i_ - group_ * tiles_;                                                  \
    uint th_ = divu(t_, pc.tilesW, 1.0 / float(pc.tilesW));                          \
    int row0_ = int(th_) * ROWS;                                                     \
    int col0_ = int(t_ - th_ * pc.tilesW) * COLS;                                    \
    float wk_[K * K];                                                                \
    if (BY_IMAGE) {                                                                  \
        uint images_ = pc.planes / pc.C;                                             \
        uint blocks_ = (images_ + pc.per - 1u) / pc.per;                             \
        uint c_ = divu(group_, blocks_, 1.0 / float(blocks_));                       \
        uint n_ = (group_ - c_ * blocks_) * pc.per;                                  \
        uint end_ = min(n_ + pc.per, images_);                                       \
        load_weights(c_, wk_);                                                       \
        for (; n_ < end_; ++n_) {                                                    \
            tile(n_ * pc.C + c_, c_, row0_, col0_, wk_);                                 \
        }                                                                            \
    } else {                                                                         \
        uint first_ = group_ * pc.per;                                               \
        uint end_ = min(first_ + pc.per, pc.planes);                                 \
        uint c_ = first_ - divu(first_, pc.C, 1.0 / float(pc.C)) * pc.C;             \
        for (uint plane_ = first_; plane_ < end_; ++plane_) {                        \
            load_weights(c_, wk_);                                                   \
            tile(plane_, c_, row0_, col0_, wk_);                                         \
            c_ = c_ + 1u == pc.C ? 0u : c_ + 1u;                                     \
        }                                                                            \
    }

// load_weights reads channel c's K x K filter.
void load_weights(uint c, out float wk[K * K]) {
    [[unroll]] for (int i = 0; i < K * K; ++i) {
        wk[i] = imageLoad(w, int(c) * K * K + i).r;
    }
}
#endif

#if defined(FORWARD)
// forward_tile computes the tile of y at (oh0, ow0) of plane (channel c,
// whose filter is wk).
void forward_tile(uint plane, uint c, int oh0, int ow0, float wk[K * K]) {
    uint xbase = plane * pc.H * pc.W;
    uint ybase = plane * pc.OH * pc.OW;

    float acc[ROWS * COLS];
    [[unroll]] for (int i = 0; i < ROWS * COLS; ++i) {
        acc[i] = 0.0;
    }
    int ih0 = oh0 * S - P;
    int iw0 = ow0 * S - P;
    [[unroll]] for (int t = 0; t < WIN_ROWS; ++t) {
        float row[WIN_COLS];
        LOAD_ROW(x, x4, xbase, ih0 + t, iw0, pc.H, pc.W, row, WIN_COLS, P);
        [[unroll]] for (int r = 0; r < ROWS; ++r) {
            int a = t - r * S;
            if (a >= 0 && a < K) {
                [[unroll]] for (int q = 0; q < COLS; ++q) {
                    [[unroll]] for (int b = 0; b < K; ++b) {
                        acc[r * COLS + q] += row[q * S + b] * wk[a * K + b];
                    }
                }
            }
        }
    }
#ifdef EPILOGUE
    [[unroll]] for (int r = 0; r < ROWS; ++r) {
        [[unroll]] for (int q = 0; q < COLS; ++q) {
            // Outside the plane: a clamped index, the value is not stored.
            uint at = ybase + uint(min(oh0 + r, int(pc.OH) - 1)) * pc.OW + uint(min(ow0 + q, int(pc.OW) - 1));
            acc[r * COLS + q] = epilogue1(acc[r * COLS + q], c, at);
        }
    }
#endif
    STORE_TILE(y, y4, y4i, ybase, oh0, ow0, pc.OH, pc.OW, acc)
}

void main() {
    FOR_EACH_TILE(forward_tile)
}
#endif

#if defined(BACKWARD_DATA)
// dy window of one dx tile (h0, v0 multiples of S): dy rows h0/S - LO ...
#define LO ((K - 1 - P) / S)
#define DY_ROWS ((ROWS - 1 + P) / S + LO + 1)
#define DY_COLS ((COLS - 1 + P) / S + LO + 1)

#ifdef STORE_U64
// pack_pair holds floats a and b as one 64-bit word, a in its low half (the
// first in memory).
uint64_t pack_pair(float a, float b) {
    return packUint2x32(uvec2(floatBitsToUint(a), floatBitsToUint(b)));
}
#endif

// backward_data_tile computes the tile of dx at (h0, v0) of plane
// (channel c, whose filter is wk).
void backward_data_tile(uint plane, uint c, int h0, int v0, float wk[K * K]) {
    uint dxbase = plane * pc.H * pc.W;
    uint dybase = plane * pc.OH * pc.OW;

    float acc[ROWS * COLS];
    [[unroll]] for (int i = 0; i < ROWS * COLS; ++i) {
        acc[i] = 0.0;
    }
    int i0 = h0 / S - LO;
    int j0 = v0 / S - LO;
    [[unroll]] for (int ti = 0; ti < DY_ROWS; ++ti) {
        float row[DY_COLS];
        LOAD_ROW(dy, dy4, dybase, i0 + ti, j0, pc.OH, pc.OW, row, DY_COLS, LO);
        [[unroll]] for (int r = 0; r < ROWS; ++r) {
            int a = r + P - (ti - LO) * S;
            if (a >= 0 && a < K) {
                [[unroll]] for (int q = 0; q < COLS; ++q) {
                    [[unroll]] for (int tj = 0; tj < DY_COLS; ++tj) {
                        int b = q + P - (tj - LO) * S;
                        if (b >= 0 && b < K) {
                            acc[r * COLS + q] += row[tj] * wk[a * K + b];
                        }
                    }
                }
            }
        }
    }
#ifdef STORE_U64
    // pc.W % 8 == 0 (ops): a tile row inside the plane is one whole group.
    [[unroll]] for (int r = 0; r < ROWS; ++r) {
        if (h0 + r < int(pc.H)) {
            uint at = dxbase + uint(h0 + r) * pc.W + uint(v0);
            dx8[at >> 3] = u64vec4(pack_pair(acc[r * COLS], acc[r * COLS + 1]), pack_pair(acc[r * COLS + 2], acc[r * COLS + 3]),
                                   pack_pair(acc[r * COLS + 4], acc[r * COLS + 5]), pack_pair(acc[r * COLS + 6], acc[r * COLS + 7]));
        }
    }
#else
    STORE_TILE(dx, dx4, dx4i, dxbase, h0, v0, pc.H, pc.W, acc)
#endif
}

void main() {
    FOR_EACH_TILE(backward_data_tile)
}
#endif

#if defined(BACKWARD_WEIGHT)
shared float partial[K * K][LOCAL];

void main() {
    uint c = linear_group();
    uint lane = gl_LocalInvocationIndex;
    uint tiles = pc.tilesH * pc.tilesW;
    float sum[K * K];
    [[unroll]] for (int i = 0; i < K * K; ++i) {
        sum[i] = 0.0;
    }
    if (c < pc.C) {
        // Lane l sums the jobs l, l + LOCAL, ... (job = n * tiles + t),
        // stepping n and t without dividing per job.
        uint n = lane / tiles;
        uint tile = lane - n * tiles;
        uint stepN = LOCAL / tiles;
        uint stepT = LOCAL - stepN * tiles;
        float invTilesW = 1.0 / float(pc.tilesW);
        for (; n < pc.planes; n += stepN) {
            uint th = divu(tile, pc.tilesW, invTilesW);
            int oh0 = int(th) * ROWS;
            int ow0 = int(tile - th * pc.tilesW) * COLS;
            uint plane = n * pc.C + c;
            uint xbase = plane * pc.H * pc.W;
            uint dybase = plane * pc.OH * pc.OW;
            float g[ROWS * COLS];
            [[unroll]] for (int r = 0; r < ROWS; ++r) {
                if (VEC4_DY) {
                    LOAD4(dy4, dybase, oh0 + r, ow0, pc.OH, pc.OW, g, r * COLS);
                } else {
                    [[unroll]] for (int q = 0; q < COLS; ++q) {
                        LOAD(dy, dybase, oh0 + r, ow0 + q, pc.OH, pc.OW, g[r * COLS + q]);
                    }
                }
            }
            int ih0 = oh0 * S - P;
            int iw0 = ow0 * S - P;
            [[unroll]] for (int t = 0; t < WIN_ROWS; ++t) {
                float row[WIN_COLS];
                LOAD_ROW(x, x4, xbase, ih0 + t, iw0, pc.H, pc.W, row, WIN_COLS, P);
                [[unroll]] for (int r = 0; r < ROWS; ++r) {
                    int a = t - r * S;
                    if (a >= 0 && a < K) {
                        [[unroll]] for (int b = 0; b < K; ++b) {
                            [[unroll]] for (int q = 0; q < COLS; ++q) {
                                sum[a * K + b] += g[r * COLS + q] * row[q * S + b];
                            }
                        }
                    }
                }
            }
            tile += stepT;
            if (tile >= tiles) {
                tile -= tiles;
                n++;
            }
        }
    }
    [[unroll]] for (int i = 0; i < K * K; ++i) {
        partial[i][lane] = sum[i];
    }
    barrier();
    if (c < pc.C) {
        for (uint i = lane; i < K * K; i += LOCAL) {
            float total = 0.0;
            for (uint l = 0; l < LOCAL; ++l) {
                total += partial[i][l];
            }
            dw[c * K * K + i] = total;
        }
    }
}
#endif
