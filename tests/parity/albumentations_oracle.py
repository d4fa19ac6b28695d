"""Parity oracle for the thesis's image augmentation (suite/data/image_augment.hpp): applies albumentations 1.4.14's
own functions (albucore 0.0.13, numpy 1.24, opencv-python-headless 4.10 — the thesis's pretraining versions) with the
parameters the C++ test chose, to the image it wrote, and writes each result as a PNG.

usage: albumentations_oracle.py DIR   (DIR holds input.png, cases.json and, for GlassBlur/GaussNoise, arrays.npz written
by clcp-bench's npz writer); exit 3 when albumentations does not import.
"""
import json
import os
import sys

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
try:
    import cv2
    import numpy as np
    import albumentations as A
    from albumentations.augmentations import functional as F
    from albumentations.augmentations.blur import functional as FB
except Exception as e:  # noqa: BLE001 - any import failure means "oracle unavailable"
    print(f"albumentations oracle unavailable: {e!r}")
    sys.exit(3)

d = sys.argv[1]
img = cv2.cvtColor(cv2.imread(os.path.join(d, "input.png")), cv2.COLOR_BGR2RGB)
cases = json.load(open(os.path.join(d, "cases.json")))
arrays = np.load(os.path.join(d, "arrays.npz"))
jitter = A.ColorJitter(brightness=0.3, contrast=0.3, saturation=0.3, hue=0.1, p=1.0)
for i, c in enumerate(cases):
    x = img.copy()
    op = c["op"]
    if op == "brightness":
        y = F.adjust_brightness_torchvision(x, c["factor"])
    elif op == "contrast":
        y = F.adjust_contrast_torchvision(x, c["factor"])
    elif op == "saturation":
        y = F.adjust_saturation_torchvision(x, c["factor"])
    elif op == "hue":
        y = F.adjust_hue_torchvision(x, c["factor"])
    elif op == "jitter":
        b, ct, s, h = c["factors"]
        y = jitter.apply(x, brightness=b, contrast=ct, saturation=s, hue=h, order=list(c["order"]))
    elif op == "brightness_contrast":
        y = F.brightness_contrast_adjust(x, c["alpha"], c["beta"], True)
    elif op == "gray":
        y = F.to_gray(x)
    elif op == "gaussian_blur":
        y = FB.gaussian_blur(x, c["ksize"], sigma=0)
    elif op == "glass_blur":
        dxy = arrays[c["array"]].reshape(-1, 2, 2)
        y = FB.glass_blur(x, 0.7, 1, 2, dxy, "fast")
    elif op == "gauss_noise":
        y = F.add_noise(x, arrays[c["array"]].reshape(x.shape))
    else:
        raise ValueError(op)
    assert y.dtype == np.uint8 and y.shape == x.shape, (op, y.dtype, y.shape)
    cv2.imwrite(os.path.join(d, f"out_{i}.png"), cv2.cvtColor(y, cv2.COLOR_RGB2BGR))
print(json.dumps({"albumentations": A.__version__, "numpy": np.__version__, "cv2": cv2.__version__}))
