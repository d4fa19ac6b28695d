# Oracle for suite/pretrain/methods/simclr/nt_xent.hpp: lightly 1.6.0's NTXentLoss (build/lightly-venv, installed
# --no-deps). ntx_ent_loss.py imports two lightly modules; they are stubbed here (a memory bank of size 0 passes its
# input through, and dist is unused without gather_distributed) so that lightly's own forward runs without importing
# the rest of lightly. argv[1]: folder with in.safetensors (a0, b0, …); writes out.safetensors (loss0, …).
# Exit 3: lightly or torch is missing (the test skips visibly).
import importlib.util
import os
import sys
import types

d = sys.argv[1]
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


class MemoryBankModule(torch.nn.Module):
    def __init__(self, size=0, gather_distributed=False):
        super().__init__()
        assert size == 0 or size == (0,), size

    def forward(self, output, labels=None, update=False):
        return output, None


for name in ["lightly", "lightly.models", "lightly.models.modules", "lightly.models.modules.memory_bank",
             "lightly.utils", "lightly.utils.dist"]:
    sys.modules[name] = types.ModuleType(name)
sys.modules["lightly.models.modules.memory_bank"].MemoryBankModule = MemoryBankModule
sys.modules["lightly.utils"].dist = sys.modules["lightly.utils.dist"]
loader = importlib.util.spec_from_file_location("lightly_ntx_ent_loss", os.path.join(root, "loss", "ntx_ent_loss.py"))
ntx = importlib.util.module_from_spec(loader)
loader.loader.exec_module(ntx)
print("lightly NTXentLoss from", os.path.join(root, "loss", "ntx_ent_loss.py"))
t = load_file(os.path.join(d, "in.safetensors"))
out = {}
for c, tau in enumerate([0.5, 0.1, 0.07]):
    loss = ntx.NTXentLoss(temperature=tau)(t["a%d" % c], t["b%d" % c])
    out["loss%d" % c] = loss.reshape(1).to(torch.float64)
save_file(out, os.path.join(d, "out.safetensors"))
