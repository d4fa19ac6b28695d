# Loads lightly 1.6.0's NTXentLoss (build/lightly-venv, installed --no-deps) for the oracles. ntx_ent_loss.py
# imports two lightly modules; they are stubbed here (a memory bank of size 0 passes its input through, and dist is
# unused without gather_distributed) so that lightly's own forward runs without importing the rest of lightly.
# Exits 3 when lightly or torch is missing (the tests skip visibly).
import importlib.util
import os
import sys
import types


def load_ntxent():
    """lightly's ntx_ent_loss module (NTXentLoss), loaded from the installed package's own file."""
    try:
        import torch
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
    path = os.path.join(root, "loss", "ntx_ent_loss.py")
    loader = importlib.util.spec_from_file_location("lightly_ntx_ent_loss", path)
    ntx = importlib.util.module_from_spec(loader)
    loader.loader.exec_module(ntx)
    print("lightly NTXentLoss from", path)
    return ntx
