#version 450
// draw: the 2D rasterizer of `effv2vk visualize`. Every kernel writes packed
// 8-bit colours (one uint per pixel, already in the target's byte order) into
// a canvas of w x h pixels, row-major, and clips to it. Primitives arrive as
// flat int records; viz/raster.go is the CPU reference of each kernel and
// must produce the same pixels.
//
// Primitives of one dispatch run in no particular order, so the host puts
// overlapping primitives in separate dispatches (records first ..
// first+count-1 each), in drawing order.
//
//   draw_clear:  canvas[i] = color for every pixel.
//   draw_rects:  filled rectangles {x0, y0, x1, y1, color}, x1/y1 exclusive;
//                one workgroup per rectangle.
//   draw_lines:  segments {x0, y0, x1, y1, color, thickness}, Bresenham,
//                each point a thickness x thickness square starting at
//                (x - thickness/2, y - thickness/2); one invocation per
//                segment.
//   draw_glyphs: glyphs {x, y, code, color, scale} of a bitmap font (one uint
//                per glyph row, bit c = column c); one workgroup per glyph.
//   draw_blits:  images {x, y, w, h, src offset, src w, src h, channels,
//                mode, lo bits, hi bits} scaled (nearest) from a float pool:
//                mode 0 maps (v - lo) / (hi - lo) to gray (1 channel) or RGB
//                (3 channels, HWC); mode 1 maps channel 0 through a
//                blue-to-yellow colour ramp. One workgroup per image.
//! kernel draw_clear CLEAR
//! kernel draw_rects RECTS
//! kernel draw_lines LINES
//! kernel draw_glyphs GLYPHS
//! kernel draw_blits BLITS
#include "common.glsl"

#if defined(CLEAR) || defined(LINES)
layout(local_size_x = 64) in;
#else
layout(local_size_x = 8, local_size_y = 8) in;
#endif

layout(push_constant) uniform Push {
    uint width;   // canvas width in pixels
    uint height;  // canvas height in pixels
    uint count;   // pixels (clear) or primitives in this dispatch
    uint first;   // index of the dispatch's first primitive
    uint param;   // clear: colour; glyphs: font cell width; blits: 1 when BGRA
    uint param2;  // glyphs: font cell height
} pc;

layout(std430, binding = 0) writeonly buffer Canvas { uint canvas[]; };

#ifndef CLEAR
layout(std430, binding = 1) readonly buffer Prims { int prims[]; };
#endif
#ifdef GLYPHS
layout(std430, binding = 2) readonly buffer Font { uint font[]; };
#endif
#ifdef BLITS
layout(std430, binding = 2) readonly buffer Pool { float pool[]; };
#endif

void put(int x, int y, uint color) {
    if (x >= 0 && y >= 0 && x < int(pc.width) && y < int(pc.height)) {
        canvas[uint(y) * pc.width + uint(x)] = color;
    }
}

#ifdef BLITS
// pack_color packs r, g, b in 0..255 into the target's byte order.
uint pack_color(uint r, uint g, uint b) {
    if (pc.param != 0u) {
        return b | (g << 8) | (r << 16) | 0xff000000u;
    }
    return r | (g << 8) | (b << 16) | 0xff000000u;
}

uint unit_byte(float v) {
    return uint(clamp(v, 0.0, 1.0) * 255.0 + 0.5);
}

// ramp is the colour ramp of feature maps: dark blue, teal, yellow.
uint ramp(float t) {
    t = clamp(t, 0.0, 1.0);
    float r = t < 0.5 ? 0.1 * t : (t - 0.5) * 1.9 + 0.05;
    float g = t < 0.5 ? 0.1 + 1.1 * t : 0.65 + 0.6 * (t - 0.5);
    float b = t < 0.5 ? 0.4 + 0.4 * t : 0.6 - 1.1 * (t - 0.5);
    return pack_color(unit_byte(r), unit_byte(g), unit_byte(b));
}
#endif

void main() {
#ifdef CLEAR
    uint i = linear_invocation();
    if (i < pc.count) {
        canvas[i] = pc.param;
    }
#elif defined(RECTS)
    if (linear_group() >= pc.count) {
        return;
    }
    uint r = pc.first + linear_group();
    int x0 = max(prims[5 * r], 0);
    int y0 = max(prims[5 * r + 1], 0);
    int x1 = min(prims[5 * r + 2], int(pc.width));
    int y1 = min(prims[5 * r + 3], int(pc.height));
    uint color = uint(prims[5 * r + 4]);
    for (int y = y0 + int(gl_LocalInvocationID.y); y < y1; y += 8) {
        for (int x = x0 + int(gl_LocalInvocationID.x); x < x1; x += 8) {
            canvas[uint(y) * pc.width + uint(x)] = color;
        }
    }
#elif defined(LINES)
    if (linear_invocation() >= pc.count) {
        return;
    }
    uint s = pc.first + linear_invocation();
    int x0 = prims[6 * s], y0 = prims[6 * s + 1];
    int x1 = prims[6 * s + 2], y1 = prims[6 * s + 3];
    uint color = uint(prims[6 * s + 4]);
    int t = max(prims[6 * s + 5], 1);
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
    int err = dx + dy;
    int x = x0, y = y0;
    // Bounded so that a wild segment cannot hang the device.
    for (int step = 0; step < 8192; step++) {
        for (int oy = 0; oy < t; oy++) {
            for (int ox = 0; ox < t; ox++) {
                put(x - t / 2 + ox, y - t / 2 + oy, color);
            }
        }
        if (x == x1 && y == y1) {
            break;
        }
        int e2 = 2 * err;
        if (e2 >= dy) {
            err += dy;
            x += sx;
        }
        if (e2 <= dx) {
            err += dx;
            y += sy;
        }
    }
#elif defined(GLYPHS)
    if (linear_group() >= pc.count) {
        return;
    }
    uint g = pc.first + linear_group();
    int gx = prims[5 * g], gy = prims[5 * g + 1];
    uint code = uint(prims[5 * g + 2]);
    uint color = uint(prims[5 * g + 3]);
    int scale = max(prims[5 * g + 4], 1);
    int cw = int(pc.param), ch = int(pc.param2);
    for (int py = int(gl_LocalInvocationID.y); py < ch * scale; py += 8) {
        uint bits = font[code * uint(ch) + uint(py / scale)];
        for (int px = int(gl_LocalInvocationID.x); px < cw * scale; px += 8) {
            if ((bits & (1u << uint(px / scale))) != 0u) {
                put(gx + px, gy + py, color);
            }
        }
    }
#elif defined(BLITS)
    if (linear_group() >= pc.count) {
        return;
    }
    uint b = pc.first + linear_group();
    int bx = prims[11 * b], by = prims[11 * b + 1];
    int bw = prims[11 * b + 2], bh = prims[11 * b + 3];
    uint off = uint(prims[11 * b + 4]);
    int sw = prims[11 * b + 5], sh = prims[11 * b + 6];
    int chans = prims[11 * b + 7];
    int mode = prims[11 * b + 8];
    float lo = intBitsToFloat(prims[11 * b + 9]);
    float hi = intBitsToFloat(prims[11 * b + 10]);
    float scale = hi > lo ? 1.0 / (hi - lo) : 0.0;
    for (int y = int(gl_LocalInvocationID.y); y < bh; y += 8) {
        int sy = (y * sh) / bh;
        for (int x = int(gl_LocalInvocationID.x); x < bw; x += 8) {
            int sx = (x * sw) / bw;
            uint at = off + uint((sy * sw + sx) * chans);
            uint color;
            if (mode == 1) {
                color = ramp((pool[at] - lo) * scale);
            } else if (chans >= 3) {
                color = pack_color(unit_byte((pool[at] - lo) * scale), unit_byte((pool[at + 1u] - lo) * scale),
                                   unit_byte((pool[at + 2u] - lo) * scale));
            } else {
                uint v = unit_byte((pool[at] - lo) * scale);
                color = pack_color(v, v, v);
            }
            put(bx + x, by + y, color);
        }
    }
#endif
}
