# Oracle for suite/pretrain/methods/simclr/nt_xent.hpp: lightly 1.6.0's NTXentLoss (lightly_loader.py).
# argv[1]: folder with in.safetensors (a0, b0, …); writes out.safetensors (loss0, …). Exit 3: lightly or torch is
# missing (the test skips visibly).
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lightly_loader import load_ntxent  # noqa: E402

ntx = load_ntxent()
import torch  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

d = sys.argv[1]
t = load_file(os.path.join(d, "in.safetensors"))
out = {}
for c, tau in enumerate([0.5, 0.1, 0.07]):
    loss = ntx.NTXentLoss(temperature=tau)(t["a%d" % c], t["b%d" % c])
    out["loss%d" % c] = loss.reshape(1).to(torch.float64)
save_file(out, os.path.join(d, "out.safetensors"))
