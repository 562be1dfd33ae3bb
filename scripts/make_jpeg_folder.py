#!/usr/bin/python3
"""Writes an ImageFolder of synthetic natural-looking JPEGs for `effv2vk bench data`.

Each image is colour noise with a 1/f amplitude spectrum (the power law of natural
photographs), a few soft-edged discs and bars in random colours on top, and mild
sensor noise, saved as a baseline JPEG (quality 90, 4:2:0 chroma, as cameras and
ImageNet files mostly are). Deterministic for a given --seed.

    /usr/bin/python3 scripts/make_jpeg_folder.py --out /tmp/jpegs --classes 10 --per-class 100
"""
import argparse
import os

import numpy as np
from PIL import Image


def pink_noise(rng, h, w, channels):
    """A (h, w, channels) field with a 1/f amplitude spectrum and correlated channels, in [0, 1]."""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    amp = (1.0 / f ** rng.uniform(0.9, 1.2)).astype(np.float32)
    amp[0, 0] = 0.0
    phase = np.exp(2j * np.pi * rng.random((channels,) + amp.shape, dtype=np.float32))
    fields = np.fft.irfft2(amp * phase, s=(h, w)).astype(np.float32)
    mix = rng.normal(size=(channels, channels)).astype(np.float32) * 0.4 + np.eye(channels, dtype=np.float32)
    out = np.einsum("chw,dc->hwd", fields, mix)
    out -= out.min(axis=(0, 1))
    out /= out.max(axis=(0, 1)) + 1e-9
    return out


def add_shapes(rng, img):
    """Soft-edged discs and bars in random colours, shaded by the background's texture."""
    h, w, _ = img.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    shade = 0.7 + 0.3 * img.mean(axis=2, keepdims=True)
    for _ in range(rng.integers(3, 9)):
        colour = rng.random(3).astype(np.float32)
        if rng.random() < 0.6:
            cy, cx, r = rng.uniform(0, h), rng.uniform(0, w), rng.uniform(10, 120)
            d = np.sqrt((yy - cy) ** 2 + (xx - cx) ** 2) - r
        else:
            cy, cx = rng.uniform(0, h), rng.uniform(0, w)
            a = rng.uniform(0, np.pi)
            half_w, half_l = rng.uniform(4, 30), rng.uniform(40, 250)
            u = (xx - cx) * np.cos(a) + (yy - cy) * np.sin(a)
            v = -(xx - cx) * np.sin(a) + (yy - cy) * np.cos(a)
            d = np.maximum(np.abs(u) - half_l, np.abs(v) - half_w)
        alpha = np.clip(0.5 - d / rng.uniform(1, 6), 0, 1)[..., None] * rng.uniform(0.5, 0.95)
        img = img * (1 - alpha) + alpha * colour * shade
    return img


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", required=True, help="root folder; class folders c00, c01, ... are made in it")
    ap.add_argument("--classes", type=int, default=10)
    ap.add_argument("--per-class", type=int, default=100)
    ap.add_argument("--width", type=int, default=500)
    ap.add_argument("--height", type=int, default=375)
    ap.add_argument("--quality", type=int, default=90)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = np.random.default_rng(args.seed)
    for c in range(args.classes):
        d = os.path.join(args.out, "c%02d" % c)
        os.makedirs(d, exist_ok=True)
        for i in range(args.per_class):
            img = add_shapes(rng, pink_noise(rng, args.height, args.width, 3))
            img += rng.normal(scale=0.01, size=img.shape)
            pix = (np.clip(img, 0, 1) * 255 + 0.5).astype(np.uint8)
            Image.fromarray(pix).save(os.path.join(d, "%04d.jpg" % i), quality=args.quality, subsampling=2)
    print("wrote %d images of %dx%d to %s" % (args.classes * args.per_class, args.width, args.height, args.out))


if __name__ == "__main__":
    main()
