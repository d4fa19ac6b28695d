"""Prepares the clouds of ci/bench_lidar.sh: the real A2D2 npz of ../shared/realdata cropped as in training (the
points whose raw row/col fall in a 896×896 window of the 1920×1208 image; 16 windows with offsets from numpy's
default_rng(0), left in [0, 1023], top in [0, 311]), as [N, 4] float32 (x, y, z, reflectance) tensors cloud0..15.

Usage: lidar_bench_clouds.py NPZ OUT.safetensors
"""
import sys

import numpy as np
import torch
from safetensors.torch import save_file

z = np.load(sys.argv[1])
pts = np.concatenate([z['points'], z['reflectance'][:, None]], 1).astype(np.float32)
row, col = z['row'], z['col']
rng = np.random.default_rng(0)
out = {}
for i in range(16):
    left, top = int(rng.integers(0, 1920 - 896)), int(rng.integers(0, 1208 - 896))
    keep = (row >= top) & (row < top + 896) & (col >= left) & (col < left + 896)
    out[f'cloud{i}'] = torch.from_numpy(np.ascontiguousarray(pts[keep]))
    print(f'cloud{i}: window left {left} top {top}: {int(keep.sum())} of {len(pts)} points')
save_file(out, sys.argv[2])
