#!/usr/bin/python3
"""Writes a small RGB image set for the CLI tests: 16x16 coloured squares and discs on a dark
background, two classes (square, disc), as an NPY array [N, 3, 16, 16] uint8 with a label CSV,
and as a PNG folder with one sub-folder per class.

    make_shapes.py OUT_DIR [N]
"""
import os
import struct
import sys
import zlib

import numpy as np


def shapes(n, seed=0, size=16):
    rng = np.random.default_rng(seed)
    images = np.zeros((n, 3, size, size), dtype=np.uint8)
    labels = rng.integers(0, 2, n)
    yy, xx = np.mgrid[0:size, 0:size]
    for i in range(n):
        colour = rng.integers(80, 256, 3)
        r = rng.integers(3, 6)
        cy, cx = rng.integers(r, size - r, 2)
        if labels[i] == 0:
            mask = (abs(yy - cy) <= r) & (abs(xx - cx) <= r)
        else:
            mask = (yy - cy) ** 2 + (xx - cx) ** 2 <= r * r
        for c in range(3):
            images[i, c][mask] = colour[c]
        images[i] += rng.integers(0, 16, (3, size, size), dtype=np.uint8)  # background noise
    return images, labels


def write_png(path, image):  # image uint8 [3, H, W] -> an 8-bit RGB PNG
    c, h, w = image.shape
    rows = b"".join(b"\x00" + image[:, y, :].T.tobytes() for y in range(h))
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 400
    os.makedirs(out, exist_ok=True)
    for split, seed, count in (("train", 0, n), ("test", 1, n // 4)):
        images, labels = shapes(count, seed)
        np.save(os.path.join(out, f"{split}.npy"), images)
        with open(os.path.join(out, f"{split}_labels.csv"), "w") as f:
            f.write("label\n" + "".join(f"{'square' if k == 0 else 'disc'}\n" for k in labels))
        for i, (image, k) in enumerate(zip(images, labels)):
            folder = os.path.join(out, f"{split}_png", "square" if k == 0 else "disc")
            os.makedirs(folder, exist_ok=True)
            write_png(os.path.join(folder, f"{i:04d}.png"), image)


if __name__ == "__main__":
    main()
