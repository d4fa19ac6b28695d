# Oracle for suite/data/two_view.hpp: torchvision 0.29's functional transforms on uint8 tensors, on the parameters the
# C++ side drew. argv[1]: scratch folder holding input.png and cases.json; writes out_<i>.png per case.
# Exit 3: torchvision does not import (the test skips visibly).
import json
import os
import sys

d = sys.argv[1]
try:
    import numpy as np
    import torch
    import torchvision
    import torchvision.transforms.functional as F
    from torchvision.io import read_image, write_png
except Exception as e:  # noqa: BLE001
    print("torchvision import failed:", e)
    sys.exit(3)
print("torchvision", torchvision.__version__, "torch", torch.__version__)
torch.set_num_threads(1)
img = read_image(os.path.join(d, "input.png"))  # uint8 [3, H, W] RGB
for i, c in enumerate(json.load(open(os.path.join(d, "cases.json")))):
    op, x = c["op"], img.clone()
    if op == "brightness":
        x = F.adjust_brightness(x, c["factor"])
    elif op == "contrast":
        x = F.adjust_contrast(x, c["factor"])
    elif op == "saturation":
        x = F.adjust_saturation(x, c["factor"])
    elif op == "hue":
        x = F.adjust_hue(x, c["factor"])
    elif op == "gray":
        x = F.rgb_to_grayscale(x, num_output_channels=3)
    elif op == "blur":
        x = F.gaussian_blur(x, [c["kernel"], c["kernel"]], [c["sigma"], c["sigma"]])
    elif op == "resized_crop":
        x = F.resized_crop(x, c["top"], c["left"], c["height"], c["width"], [c["size"], c["size"]],
                           antialias=True)
    else:
        raise SystemExit("unknown op " + op)
    write_png(x, os.path.join(d, "out_%d.png" % i))
