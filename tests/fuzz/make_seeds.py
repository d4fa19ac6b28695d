"""Seed corpora for the fuzz harnesses (ci/fuzz.sh), made like the test fixtures but with tiny tensors so that the
fuzzer starts from every construct the readers handle: safetensors of each dtype with metadata; torch.save files
of a plain dict, an OrderedDict state dict with _metadata, nested wrappers (state_dict/model/meta, mmseg and
Lightning layouts with an AttributeDict and a defaultdict), pickle protocols 2 and 4, a legacy file; the data.pkl
of each zip for the rewrite alone; and the protocol files. Usage: python make_seeds.py OUT_DIR REPO_ROOT"""
import collections, io, os, pathlib, shutil, sys, tempfile, zipfile

import numpy as np
import torch
import safetensors.torch as st

out, repo = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for h in ("fuzz_safetensors", "fuzz_torch_zip", "fuzz_pickle_rewrite", "fuzz_protocol", "fuzz_npz"):
    (out / h).mkdir(parents=True, exist_ok=True)

# A stand-in for Lightning's AttributeDict, importable by its real module path (what a .ckpt's pickle names).
mods = pathlib.Path(tempfile.mkdtemp())
(mods / "pytorch_lightning" / "utilities").mkdir(parents=True)
(mods / "pytorch_lightning" / "__init__.py").write_text("")
(mods / "pytorch_lightning" / "utilities" / "__init__.py").write_text("")
(mods / "pytorch_lightning" / "utilities" / "parsing.py").write_text(
    "class AttributeDict(dict):\n    def __getattr__(self, k):\n        return self[k]\n")
sys.path.insert(0, str(mods))
from pytorch_lightning.utilities.parsing import AttributeDict  # noqa: E402

torch.manual_seed(0)
OD = collections.OrderedDict
small = OD([("patch_embed.proj.weight", torch.randn(2, 3, 2, 2)), ("cls_token", torch.randn(1, 1, 2)),
            ("blocks.0.attn.qkv.bias", torch.zeros(6)), ("norm.weight", torch.ones(2))])
small._metadata = OD([("", {"version": 1}), ("blocks.0", {"version": 1})])

dtypes = {"f64": torch.float64, "f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16,
          "i64": torch.int64, "i32": torch.int32, "i16": torch.int16, "i8": torch.int8, "u8": torch.uint8}
st.save_file({k: torch.arange(6).view(2, 3).to(t) for k, t in dtypes.items()} |
             {"bool": torch.tensor([True, False]), "empty": torch.zeros(0, 3), "scalar": torch.tensor(4.5)},
             str(out / "fuzz_safetensors" / "all_dtypes.safetensors"), metadata={"format": "clcp-bench/1", "iteration": "6"})
st.save_file({k: v.contiguous() for k, v in small.items()}, str(out / "fuzz_safetensors" / "vit_small.safetensors"))
shutil.copy(out / "fuzz_safetensors" / "vit_small.safetensors", out / "fuzz_torch_zip" / "vit_small.safetensors")

zips = {
    "plain": dict(small),
    "ordered": small,
    "state_dict": {"state_dict": small, "epoch": 3},
    "model": {"model": dict(small)},
    "mmseg": {"meta": OD(iter=80000, seed=0, hook_msgs=OD(last_ckpt="iter_80000.pth")),
              "state_dict": OD(("backbone.timm_model." + k, v) for k, v in small.items()),
              "optimizer": {"state": {}, "param_groups": [{"lr": 1e-4, "params": [0, 1]}]}},
    "lightning": {"state_dict": OD(("image_encoder.model." + k, v) for k, v in small.items()),
                  "pytorch-lightning_version": "1.9.0", "epoch": 19,
                  "hyper_parameters": AttributeDict(lr=1e-4, heads=["mlp"]),
                  "lr_schedulers": [], "optimizer_states": [],
                  "callbacks": collections.defaultdict(list, {"ModelCheckpoint": [1]})},
}
for name, obj in zips.items():
    for proto in (2, 4):
        path = out / "fuzz_torch_zip" / f"{name}_p{proto}.pth"
        torch.save(obj, path, pickle_protocol=proto)
        with zipfile.ZipFile(path) as z:
            pkl = next(n for n in z.namelist() if n.endswith("/data.pkl"))
            (out / "fuzz_pickle_rewrite" / f"{name}_p{proto}.pkl").write_bytes(z.read(pkl))
torch.save({"a": torch.zeros(1)}, out / "fuzz_torch_zip" / "legacy.pth", _use_new_zipfile_serialization=False)

# A2D2 lidar .npz as np.savez_compressed writes it (members and dtypes of the real sample, 16 points), plain
# np.savez, and bare .npy files of other dtypes, shapes and orders.
rng = np.random.default_rng(0)
n = 16
lidar = {"azimuth": rng.random(n), "row": rng.random(n) * 1208 - 0.05, "lidar_id": rng.integers(0, 5, n).astype("<f8"),
         "depth": rng.random(n) * 100 + 5, "reflectance": rng.integers(1, 252, n).astype("<i8"),
         "col": rng.random(n) * 1920, "points": rng.random((n, 3)) * 50,
         "timestamp": (1533904617007861 + np.arange(n) * 1000).astype("<i8"), "distance": rng.random(n) * 100 + 6}
np.savez_compressed(out / "fuzz_npz" / "a2d2_lidar.npz", **lidar)
np.savez(out / "fuzz_npz" / "stored.npz", points=np.zeros((2, 3), "<f4"), valid=np.array([True, False]))
for name, a in {"f4_2d": np.arange(6, dtype="<f4").reshape(2, 3), "u1": np.arange(5, dtype="u1"),
                "i8_fortran": np.asfortranarray(np.arange(6, dtype="<i8").reshape(3, 2)), "bool_empty": np.zeros((0,), "?"),
                "f8_scalar": np.array(2.5)}.items():
    np.save(out / "fuzz_npz" / f"{name}.npy", a)

for p in sorted((repo / "protocols").glob("*.json")):
    shutil.copy(p, out / "fuzz_protocol" / p.name)
shutil.rmtree(mods)
print(" ".join(f"{h.name}={len(list(h.iterdir()))}" for h in sorted(out.iterdir())))
