# Oracle for tests/unit/methods/test_method_steps.cpp: one optimiser step of each image-only method's trainable head
# in PyTorch, from the weights and inputs the test wrote (in.safetensors), with the method's loss and
# torch.optim.AdamW with the parameter groups the method declares. Writes out.safetensors: the loss and every
# parameter (and BatchNorm buffer) after the step. Exit 3: lightly or torch is missing.
#   SimCLR: projector Linear(384->8, no bias) -> BatchNorm1d(8) -> ReLU -> Linear(8->4) on both views at once,
#           lightly's NTXentLoss(temperature 0.5); AdamW lr 1e-3, betas (0.9, 0.98), eps 1e-8, weight decay 0.01 on all.
#   CLCP: the lidar tower's linear head Linear(96->384) on fixed pooled lidar features, the image CLS embeddings
#           fixed; the thesis's symmetric InfoNCE with logits = cos / exp(t), t0 = 0.07 trainable; AdamW lr 1e-3,
#           betas (0.9, 0.98), eps 1e-8, weight decay 0.01 on the head and on t (clcp_a2d2's one group).
#   supervised: head Linear(384->19) per patch token of a 2x2 grid, logits bilinearly upsampled to 8x8
#           (align_corners False), cross_entropy(ignore_index 255); AdamW lr 2.5e-4, weight decay 0.05 on the weight
#           and 0 on the bias (timm's rule: ndim <= 1 without decay).
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lightly_loader import load_ntxent  # noqa: E402

ntx = load_ntxent()
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from safetensors.torch import load_file, save_file  # noqa: E402

d = sys.argv[1]
t = load_file(os.path.join(d, "in.safetensors"))
out = {}

proj = torch.nn.Sequential(torch.nn.Linear(384, 8, bias=False), torch.nn.BatchNorm1d(8), torch.nn.ReLU(),
                           torch.nn.Linear(8, 4))
proj.load_state_dict({k[len("simclr."):]: v for k, v in t.items() if k.startswith("simclr.")})
proj.train()
opt = torch.optim.AdamW(proj.parameters(), lr=1e-3, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
z = proj(torch.cat([t["views_a"], t["views_b"]]))
n = t["views_a"].shape[0]
loss = ntx.NTXentLoss(temperature=0.5)(z[:n], z[n:])
opt.zero_grad()
loss.backward()
opt.step()
out["simclr_loss"] = loss.detach().reshape(1)
for k, v in proj.state_dict().items():
    out["simclr." + k] = v.detach().clone()

lin = torch.nn.Linear(96, 384)
lin.load_state_dict({"weight": t["clcp.weight"], "bias": t["clcp.bias"]})
temp = torch.nn.Parameter(t["clcp.t"].clone())
opt = torch.optim.AdamW([lin.weight, lin.bias, temp], lr=1e-3, betas=(0.9, 0.98), eps=1e-8, weight_decay=0.01)
zi = F.normalize(t["clcp_image"], dim=-1)
zl = F.normalize(lin(t["clcp_lidar"]), dim=-1)
logits = zi @ zl.T / torch.exp(temp)
labels = torch.arange(logits.shape[0])
loss = 0.5 * (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels))
opt.zero_grad()
loss.backward()
opt.step()
out["clcp_loss"] = loss.detach().reshape(1)
out["clcp.weight"] = lin.weight.detach().clone()
out["clcp.bias"] = lin.bias.detach().clone()
out["clcp.t"] = temp.detach().clone()

head = torch.nn.Linear(384, 19)
head.load_state_dict({"weight": t["head.weight"], "bias": t["head.bias"]})
opt = torch.optim.AdamW([{"params": [head.weight], "weight_decay": 0.05}, {"params": [head.bias], "weight_decay": 0.0}],
                        lr=2.5e-4, betas=(0.9, 0.999), eps=1e-8)
tokens = t["tokens"]  # [N, 4, 384]
logits = head(tokens).transpose(1, 2).reshape(tokens.shape[0], 19, 2, 2)
logits = F.interpolate(logits, size=(8, 8), mode="bilinear", align_corners=False)
loss = F.cross_entropy(logits, t["labels"], ignore_index=255)
opt.zero_grad()
loss.backward()
opt.step()
out["supervised_loss"] = loss.detach().reshape(1)
out["head.weight"] = head.weight.detach().clone()
out["head.bias"] = head.bias.detach().clone()
save_file(out, os.path.join(d, "out.safetensors"))
