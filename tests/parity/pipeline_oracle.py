"""Pipeline oracle: mmcv 2.1 / mmseg 1.2.2's own train transforms fed with clcp-bench's random draws.

Usage: python pipeline_oracle.py DIR
DIR/cases.json: {"image": "image.png", "label": "label.png",
                 "options": {"scale": [w, h], "ratio_range": [lo, hi], "crop": [h, w], "cat_max_ratio": r,
                             "flip_prob": p},
                 "cases": [{"name": str, "draws": {"resize": [u64...], "crop": [...], "flip": [...],
                                                    "photometric": [...]}}]}
Each draw list is the raw 64-bit output of the clcp::Stream that clcp-bench keys for that step (Philox4x32-10,
suite/core/rng.hpp). numpy.random's module functions are replaced, for the length of one transform, by functions
that consume that list exactly as clcp::Stream maps a u64 to a draw:
  random_sample()/rand() = (u >> 11) * 2^-53, uniform(lo, hi) = lo + (hi - lo) * that,
  randint(lo, hi) = lo + u % (hi - lo) (rejecting u >= 2^64 - 2^64 mod span), choice(a, p) = numpy's own rule
  (searchsorted of the cumulative p, side='right', at one random_sample()).
The transforms themselves are mmseg's, built from its registry as configs/clcl/segmenter_mask_cityscapes.py does:
LoadImageFromFile → LoadAnnotations → RandomResize → RandomCrop → RandomFlip → PhotoMetricDistortion.
Writes DIR/out/<name>_img.png, <name>_lbl.png and DIR/out/results.json (sizes, boxes, flips, draws consumed).
"""
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from oracle_env import require_oracles  # noqa: E402

U64 = 1 << 64


class Draws:
    def __init__(self):
        self.values, self.pos, self.log = [], 0, []

    def start(self, values):
        self.values, self.pos, self.log = [int(v) for v in values], 0, []

    def u64(self):
        if self.pos >= len(self.values):
            raise RuntimeError('oracle ran out of recorded draws')
        v = self.values[self.pos]
        self.pos += 1
        return v

    def random_sample(self, size=None):
        assert size is None, 'vector draws are not used by these transforms'
        v = float(self.u64() >> 11) * 2.0 ** -53
        self.log.append(('random_sample', v))
        return v

    def uniform(self, low=0.0, high=1.0, size=None):
        assert size is None
        v = low + (high - low) * (float(self.u64() >> 11) * 2.0 ** -53)
        self.log.append(('uniform', v))
        return v

    def randint(self, low, high=None, size=None, dtype=int):
        assert size is None
        if high is None:
            low, high = 0, low
        span = int(high) - int(low)
        limit = (U64 - 1) - (U64 - 1) % span
        x = self.u64()
        while x >= limit:
            x = self.u64()
        v = int(low) + x % span
        self.log.append(('randint', v))
        return v

    def choice(self, a, size=None, replace=True, p=None):
        assert size is None and p is not None
        cdf = np.cumsum(np.asarray(p, dtype=np.float64))
        cdf /= cdf[-1]
        u = self.random_sample()
        idx = int(cdf.searchsorted(u, side='right'))
        self.log.append(('choice', idx))
        return list(a)[idx]


def main(d):
    require_oracles()
    import cv2
    from mmseg.registry import TRANSFORMS

    spec = json.load(open(os.path.join(d, 'cases.json')))
    o = spec['options']
    load = [TRANSFORMS.build(dict(type='LoadImageFromFile')), TRANSFORMS.build(dict(type='LoadAnnotations'))]
    steps = [
        ('resize', TRANSFORMS.build(dict(type='RandomResize', scale=tuple(o['scale']),
                                         ratio_range=tuple(o['ratio_range']), keep_ratio=True))),
        ('crop', TRANSFORMS.build(dict(type='RandomCrop', crop_size=tuple(o['crop']),
                                       cat_max_ratio=o['cat_max_ratio']))),
        ('flip', TRANSFORMS.build(dict(type='RandomFlip', prob=o['flip_prob']))),
        ('photometric', TRANSFORMS.build(dict(type='PhotoMetricDistortion'))),
    ]
    draws = Draws()
    saved = {n: getattr(np.random, n) for n in ('random_sample', 'rand', 'uniform', 'randint', 'choice')}
    patched = {'random_sample': draws.random_sample, 'rand': draws.random_sample, 'uniform': draws.uniform,
               'randint': draws.randint, 'choice': draws.choice}
    out_dir = os.path.join(d, 'out')
    os.makedirs(out_dir, exist_ok=True)
    results = {}
    for case in spec['cases']:
        r = dict(img_path=os.path.join(d, spec['image']), seg_map_path=os.path.join(d, spec['label']),
                 reduce_zero_label=False, seg_fields=[])
        for t in load:
            r = t(r)
        info = {'draws': {}}
        for purpose, t in steps:
            draws.start(case['draws'][purpose])
            for n, f in patched.items():
                setattr(np.random, n, f)
            try:
                r = t(r)
            finally:
                for n, f in saved.items():
                    setattr(np.random, n, f)
            info['draws'][purpose] = [[k, v] for k, v in draws.log]
            if purpose == 'resize':
                info['resized'] = [int(r['img'].shape[1]), int(r['img'].shape[0])]
        info['flip'] = bool(r.get('flip', False))
        info['shape'] = [int(r['img'].shape[0]), int(r['img'].shape[1])]
        # randint draws of RandomCrop come in (offset_h, offset_w) pairs; the last pair is the box used.
        offs = [v for k, v in info['draws']['crop'] if k == 'randint']
        info['crop_boxes_drawn'] = len(offs) // 2
        info['crop_yx'] = offs[-2:]
        cv2.imwrite(os.path.join(out_dir, case['name'] + '_img.png'), r['img'])
        cv2.imwrite(os.path.join(out_dir, case['name'] + '_lbl.png'), r['gt_seg_map'])
        results[case['name']] = info
    json.dump(results, open(os.path.join(out_dir, 'results.json'), 'w'), indent=1)
    print(f'pipeline oracle: {len(results)} cases')


if __name__ == '__main__':
    main(sys.argv[1])
