# Oracle for suite/pretrain/methods/siamese/: lightly 1.6.0's NegativeCosineSimilarity, SimSiam/BYOL heads and
# cosine_schedule (each loaded from the installed package's own file, as lightly_loader.py does), and BYOL's EMA
# update as a plain PyTorch loop.
# argv[1]: folder with in.safetensors (p1, p2, z1, z2; x; ema_theta0..2, ema_xi); writes out.safetensors:
#   nc, simsiam (0.5·(nc(p1, z2) + nc(p2, z1)), lightly's SimSiam example), byol_half (the same expression on BYOL's
#   tensors: lightly's BYOL example), heads' weights and outputs (train mode, float64), tau0..2 and ema_xi3.
# Exit 3: lightly or torch is missing (the test skips visibly).
import importlib.util
import os
import sys
import types

try:
    import torch
    from safetensors.torch import load_file, save_file
    spec = importlib.util.find_spec("lightly")
except Exception as e:  # noqa: BLE001
    print("import failed:", e)
    sys.exit(3)
if spec is None:
    print("lightly is not installed")
    sys.exit(3)
root = spec.submodule_search_locations[0]


def load(name, rel):
    loader = importlib.util.spec_from_file_location(name, os.path.join(root, rel))
    mod = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(mod)
    print("lightly", name, "from", os.path.join(root, rel))
    return mod


# heads.py imports lightly.models.utils (torchvision, the rest of lightly) for heads we do not use: stub it
for name in ["lightly", "lightly.models", "lightly.models.utils"]:
    sys.modules.setdefault(name, types.ModuleType(name))
sys.modules["lightly.models"].utils = sys.modules["lightly.models.utils"]
ncs = load("negative_cosine_similarity", "loss/negative_cosine_similarity.py")
heads = load("heads", "models/modules/heads.py")
sched = load("scheduler", "utils/scheduler.py")

d = sys.argv[1]
t = load_file(os.path.join(d, "in.safetensors"))
nc = ncs.NegativeCosineSimilarity()
out = {"nc": nc(t["p1"], t["z2"]).reshape(1),
       "simsiam": (0.5 * (nc(t["p1"], t["z2"]) + nc(t["p2"], t["z1"]))).reshape(1)}

torch.manual_seed(3)
x = t["x"]
cases = {"simsiam_projector": heads.SimSiamProjectionHead(24, 20, 12),
         "simsiam_predictor": heads.SimSiamPredictionHead(12, 6, 12),
         "byol_projector": heads.BYOLProjectionHead(24, 20, 12),
         "byol_predictor": heads.BYOLPredictionHead(12, 20, 12)}
for name, head in cases.items():
    head = head.double().train()
    for k, v in head.state_dict().items():
        if v.is_floating_point():
            out[name + "." + k] = v.clone()
    inp = x if name.endswith("projector") else x[:, :12]
    out[name + ".out"] = head(inp).detach()

# BYOL's target after three optimizer steps of a K = 5 run: xi <- tau_k xi + (1 - tau_k) theta_k
xi = t["ema_xi"].clone()
for k in range(3):
    tau = sched.cosine_schedule(k, 5, 0.996, 1.0)
    out["tau%d" % k] = torch.tensor([tau], dtype=torch.float64)
    with torch.no_grad():
        xi.mul_(tau).add_(t["ema_theta%d" % k], alpha=1.0 - tau)
out["ema_xi3"] = xi
save_file({k: v.contiguous() for k, v in out.items()}, os.path.join(d, "out.safetensors"))
