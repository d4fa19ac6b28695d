// torch.save(model.state_dict()) files — collections.OrderedDict with `_metadata` — load through the pickle rewrite
// (models/import/pickle_rewrite.hpp): timm, mmseg iter_*.pth and LIP-Loc best.pth layouts, protocol 2 (torch.save's
// default) and protocol 4, nested OrderedDicts and strings that look like the OrderedDict global. Fixtures are
// written once per test process by the venv's Python (torch, timm, safetensors).
#include <catch2/catch.hpp>

#include <cstring>

#include "models/import/checkpoint_reader.hpp"
#include "models/import/import_weights.hpp"
#include "models/import/pickle_rewrite.hpp"
#include "models/import/registry.hpp"
#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "support/python_oracle.hpp"
#include "support/test_paths.hpp"

namespace fs = std::filesystem;
using clcp::test::error_of;

namespace {

const char* kScript = R"PY(
import sys, collections, torch, timm, safetensors.torch as st
LIGHTNING_ATTRIBUTE_DICT = """
class AttributeDict(dict):
    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError as e:
            raise AttributeError(key) from e
    def __setattr__(self, key, val):
        self[key] = val
    def __delattr__(self, item):
        if item not in self:
            raise KeyError(item)
        del self[item]
"""
OD = collections.OrderedDict
d = sys.argv[1]
torch.manual_seed(0)
sd = timm.create_model('vit_small_patch16_224', pretrained=False).state_dict()
assert type(sd) is OD and len(sd._metadata) > 1            # what model.state_dict() returns
st.save_file({k: v.contiguous() for k, v in sd.items()}, f'{d}/timm.safetensors')
torch.save(sd, f'{d}/timm_od.pth')
torch.save(sd, f'{d}/timm_od_p4.pth', pickle_protocol=4)
body = [(k, v) for k, v in sd.items() if not k.startswith('head.')]
# mmseg iter_80000.pth: {'meta': ..., 'state_dict': OrderedDict, 'optimizer': ...}
seg = OD(('backbone.timm_model.' + k, v) for k, v in body)
seg['decode_head.cls_emb'] = torch.randn(1, 19, 384)
seg._metadata = OD((('backbone.timm_model.' + k) if k else k, v) for k, v in sd._metadata.items())
meta = OD(mmseg_version='1.2.2', config="model = dict(type='EncoderDecoder')\n", seed=0, iter=80000,
          dataset_meta=dict(classes=('road', 'sidewalk'), palette=[[128, 64, 128], [244, 35, 232]]),
          env_info='sys.platform: linux\nPython: 3.10', hook_msgs=OD(last_ckpt='work_dirs/iter_80000.pth'))
torch.save({'meta': meta, 'state_dict': seg,
            'optimizer': {'state': {}, 'param_groups': [{'lr': 1e-4, 'params': [0, 1]}]}}, f'{d}/mmseg_od.pth')
# LIP-Loc best.pth: CLIPModelV1_vit().state_dict()
lip = OD(('encoder_camera.model.' + k, v) for k, v in body)
lip.update(('encoder_lidar.model.' + k, v + 1) for k, v in body)
lip['encoder_camera.fc.weight'] = torch.randn(2048, 384)
lip['encoder_camera.fc.bias'] = torch.randn(2048)
lip._metadata = OD([('', {'version': 1}), ('encoder_camera', {'version': 1}), ('encoder_camera.model', {'version': 1})])
torch.save(lip, f'{d}/liploc_od.pth')
torch.save(lip, f'{d}/liploc_od_p4.pth', pickle_protocol=4)
# nested OrderedDicts; a key and a value that spell the OrderedDict global
inner = OD([('collections\nOrderedDict\n', torch.arange(3.0)), ('w', torch.ones(2))])
inner._metadata = OD([('', {'version': 2})])
nested = OD(model=inner, note='collections\nOrderedDict\n)R', deep=OD(a=OD(b=OD(t=torch.zeros(1)))), step=2**40)
torch.save(nested, f'{d}/nested_od.pth')
torch.save(nested, f'{d}/nested_od_p4.pth', pickle_protocol=4)
# Python bytes (SHORT_BINBYTES in protocol 4): LibTorch has no such opcode
torch.save({'w': torch.ones(1), 'blob': b'\x00\x01'}, f'{d}/bytes_p4.pth', pickle_protocol=4)
# collections.defaultdict with a factory that is one global loads; with a callable instance as factory it cannot
torch.save({'w': torch.ones(1), 'counts': collections.defaultdict(list, a=[1]),
            'more': collections.defaultdict(list, b=[2])}, f'{d}/defaultdict.pth')
import os
for rel, src in {'lightning/__init__.py': '', 'lightning/fabric/__init__.py': '',
                 'lightning/fabric/utilities/__init__.py': '', 'pytorch_lightning/__init__.py': '',
                 'pytorch_lightning/utilities/__init__.py': '',
                 # Lightning's AttributeDict (lightning.fabric.utilities.data; older: pytorch_lightning.utilities.parsing)
                 'lightning/fabric/utilities/data.py': LIGHTNING_ATTRIBUTE_DICT,
                 'pytorch_lightning/utilities/parsing.py': LIGHTNING_ATTRIBUTE_DICT,
                 'clcp_cfg.py': 'class Config:\n    def __init__(self): self.depth = 12\n'
                                'class Factory:\n    def __init__(self): self.kind = "list"\n'
                                '    def __call__(self): return []\n'}.items():
    os.makedirs(os.path.dirname(f'{d}/py/{rel}'), exist_ok=True)
    open(f'{d}/py/{rel}', 'w').write(src)
sys.path.insert(0, f'{d}/py')
import clcp_cfg, lightning.fabric.utilities.data as new_pl, pytorch_lightning.utilities.parsing as old_pl
torch.save({'w': torch.ones(1), 'counts': collections.defaultdict(clcp_cfg.Factory(), a=[1])},
           f'{d}/defaultdict_factory.pth')
# a CLCP pretraining .ckpt as Lightning writes it (trainer.save_checkpoint after self.save_hyperparameters())
clcp = OD(('image_encoder.model.' + k, v) for k, v in body)
clcp['image_encoder.projection.weight'] = torch.randn(256, 384)
clcp['lidar_encoder.stem.weight'] = torch.randn(8, 3)
clcp['point_cloud_encoder.conv0.weight'] = torch.randn(4, 4)
clcp['temperature'] = torch.tensor(0.07)
clcp._metadata = OD((('image_encoder.model.' + k) if k else k, v) for k, v in sd._metadata.items())
st.save_file({k: v.contiguous() for k, v in clcp.items()}, f'{d}/clcp_lightning.safetensors')
for AD, name, proto in ((new_pl.AttributeDict, 'clcp_lightning.ckpt', 2), (old_pl.AttributeDict, 'clcp_lightning_p4.ckpt', 4)):
    hp = AD(lr=1e-3, batch_size=256, optimizer=AD(name='AdamW', betas=(0.9, 0.999)), model_cfg=clcp_cfg.Config())
    ckpt = {'epoch': 19, 'global_step': 12340, 'pytorch-lightning_version': '2.1.0', 'state_dict': clcp,
            'loops': {'fit_loop': {'state_dict': {}, 'epoch_progress': {'total': {'ready': 20, 'completed': 19}}}},
            'callbacks': {"ModelCheckpoint{'monitor': 'val_loss', 'mode': 'min'}":
                          {'monitor': 'val_loss', 'best_model_score': torch.tensor(0.25),
                           'best_model_path': 'exp1/epoch=19_val_loss=0.25.ckpt',
                           'kth_best_model_paths': {'exp1/epoch=19_val_loss=0.25.ckpt': torch.tensor(0.25)}}},
            'optimizer_states': [{'state': {0: {'step': torch.tensor(3.0), 'exp_avg': torch.zeros(4)}},
                                  'param_groups': [{'lr': 1e-3, 'betas': (0.9, 0.999), 'params': [0]}]}],
            'lr_schedulers': [{'T_max': 100, 'base_lrs': [1e-3], 'last_epoch': 19, '_step_count': 20}],
            'hparams_name': 'kwargs', 'hyper_parameters': hp}
    torch.save(ckpt, f'{d}/{name}', pickle_protocol=proto)
    back = torch.load(f'{d}/{name}', weights_only=False)
    assert type(back['hyper_parameters']) is AD and back['hyper_parameters'].optimizer.name == 'AdamW'
print('ok')
)PY";

const fs::path& od_fixtures() {
  static const fs::path ready = clcp::test::cached_python_fixtures("clcp_od_fixtures", kScript);
  return ready;
}

#define SKIP_WITHOUT_OD_FIXTURES()                                \
  if (od_fixtures().empty()) {                                  \
    WARN("skipped: no venv python at " << CLCP_VENV_PYTHON); \
    return;                                                  \
  }

bool same_bytes(const torch::Tensor& a, const torch::Tensor& b) {
  return a.scalar_type() == b.scalar_type() && a.sizes() == b.sizes() && a.is_contiguous() && b.is_contiguous() &&
         std::memcmp(a.data_ptr(), b.data_ptr(), a.nbytes()) == 0;
}

// Every tensor of `got` equals `want` byte for byte, and nothing else is there.
void require_exact(const std::map<std::string, torch::Tensor>& got, const std::map<std::string, torch::Tensor>& want) {
  REQUIRE(got.size() == want.size());
  for (const auto& [k, v] : want) {
    INFO(k);
    REQUIRE(got.count(k));
    REQUIRE(got.at(k).device().is_cpu());
    REQUIRE(same_bytes(got.at(k), v));
  }
}

}  // namespace

TEST_CASE("torch.save(model.state_dict()) of timm's ViT-S/16 loads byte-exact, _metadata kept out of the tensors",
          "[slow][import][ordered-dict]") {
  SKIP_WITHOUT_OD_FIXTURES();
  const auto want = clcp::load_safetensors(od_fixtures() / "timm.safetensors");
  REQUIRE(want.size() == 152);
  for (const std::string file : {"timm_od.pth", "timm_od_p4.pth"}) {
    INFO(file);
    const auto f = clcp::read_checkpoint(od_fixtures() / file);
    CHECK(f.container == "torch-zip");
    CHECK(f.wrapper == "");
    CHECK(f.placeholders.empty());
    CHECK(f.tensors.count("_metadata") == 0);
    CHECK(f.tensors.count(clcp::kPickleBuildStateKey) == 0);
    require_exact(f.tensors, want);
    const auto w = clcp::import_vit_weights(od_fixtures() / file);
    CHECK(w.mapped.layout == "timm");
    CHECK(w.mapped.dropped == std::vector<std::string>{"head.bias", "head.weight"});
  }
}

TEST_CASE("An mmseg iter_80000.pth with OrderedDict meta and state_dict loads its state_dict",
          "[slow][import][ordered-dict]") {
  SKIP_WITHOUT_OD_FIXTURES();
  const auto want = clcp::load_safetensors(od_fixtures() / "timm.safetensors");
  const auto f = clcp::read_checkpoint(od_fixtures() / "mmseg_od.pth");
  CHECK(f.wrapper == "state_dict");
  CHECK(f.tensors.size() == 150 + 1);
  CHECK(same_bytes(f.tensors.at("backbone.timm_model.blocks.11.mlp.fc2.weight"), want.at("blocks.11.mlp.fc2.weight")));
  const auto seg = clcp::map_segmenter(f.tensors);
  CHECK(seg.layout == "segmenter/mmpretrain-timm");
  CHECK(seg.tensors.count("decode_head.cls_emb"));
}

TEST_CASE("LIP-Loc's best.pth (an OrderedDict state_dict) loads from protocol 2 and protocol 4 and maps to timm names",
          "[import][ordered-dict]") {
  SKIP_WITHOUT_OD_FIXTURES();
  auto want = clcp::load_safetensors(od_fixtures() / "timm.safetensors");
  want.erase("head.weight");
  want.erase("head.bias");
  for (const std::string file : {"liploc_od.pth", "liploc_od_p4.pth"}) {
    INFO(file);
    const auto w = clcp::import_vit_weights(od_fixtures() / file);
    CHECK(w.file.container == "torch-zip");
    CHECK(w.mapped.layout == "liploc");
    CHECK(w.mapped.dropped.size() == 2 + 150);  // fc.{weight,bias} + the lidar tower
    require_exact(w.mapped.tensors, want);
  }
}

TEST_CASE("weights inspect on an OrderedDict .pth names the registry init whose sha256 it has", "[import][ordered-dict]") {
  SKIP_WITHOUT_OD_FIXTURES();
  const fs::path file = od_fixtures() / "liploc_od.pth";
  const auto line = [](const std::vector<std::string>& lines, const std::string& prefix) {
    for (const auto& l : lines)
      if (l.rfind(prefix, 0) == 0) return l;
    return std::string("(no line " + prefix + ")");
  };
  const auto plain = clcp::inspect_weights(file, clcp::default_registry_path());
  CHECK(line(plain, "format:") == "format: torch-zip");
  CHECK(line(plain, "layout:") == "layout: liploc");
  CHECK(line(plain, "parameters:") == "parameters: 21665664");
  CHECK(line(plain, "loads into") == "loads into ViT-S/16: yes, all 150 tensors");
  CHECK(line(plain, "registry:") == "registry: unregistered ViT-S/16 (liploc layout)");
  clcp::test::TempDir tmp;
  auto reg = clcp::read_json(clcp::default_registry_path());
  reg["inits"]["liploc-kitti"]["sha256"] = clcp::sha256_file(file);
  clcp::write_json_atomic(tmp.path / "registry.json", reg);
  CHECK_THAT(line(clcp::inspect_weights(file, tmp.path / "registry.json"), "registry:"),
             Catch::StartsWith("registry: liploc-kitti (LIP-Loc camera encoder"));
}

TEST_CASE("Nested OrderedDicts load, and a key or value spelling the OrderedDict global stays data",
          "[import][ordered-dict]") {
  SKIP_WITHOUT_OD_FIXTURES();
  for (const std::string file : {"nested_od.pth", "nested_od_p4.pth"}) {
    INFO(file);
    const auto f = clcp::read_checkpoint(od_fixtures() / file);
    CHECK(f.wrapper == "model");
    REQUIRE(f.tensors.size() == 2);
    CHECK(torch::equal(f.tensors.at("collections\nOrderedDict\n"), torch::arange(3.0)));
    CHECK(torch::equal(f.tensors.at("w"), torch::ones(2)));
  }
}

TEST_CASE("A protocol-4 pickle with an opcode LibTorch lacks, or a defaultdict whose factory is an object, stops with "
          "one line naming it",
          "[import][ordered-dict]") {
  SKIP_WITHOUT_OD_FIXTURES();
  const auto e = error_of([] { clcp::read_checkpoint(od_fixtures() / "bytes_p4.pth"); });
  CHECK_THAT(e, Catch::Contains("bytes_p4.pth") && Catch::Contains("protocol 4") && Catch::Contains("SHORT_BINBYTES") &&
                    Catch::Contains("safetensors.torch") && Catch::Contains("README.md"));
  CHECK(e.find('\n') == std::string::npos);
  CHECK_THAT(error_of([] { clcp::read_checkpoint(od_fixtures() / "defaultdict_factory.pth"); }),
             Catch::Contains("defaultdict_factory.pth") && Catch::Contains("dict subclass other than OrderedDict") &&
                 Catch::Contains("safetensors.torch"));
}

TEST_CASE("A collections.defaultdict(list) filled with items loads, its factory dropped", "[import][ordered-dict]") {
  SKIP_WITHOUT_OD_FIXTURES();
  const auto f = clcp::read_checkpoint(od_fixtures() / "defaultdict.pth");
  REQUIRE(f.tensors.size() == 1);
  CHECK(torch::equal(f.tensors.at("w"), torch::ones(1)));
  CHECK(f.placeholders.empty());  // neither collections.defaultdict nor __builtin__.list reached LibTorch
}

TEST_CASE("A CLCP Lightning .ckpt with AttributeDict hyper_parameters loads from protocol 2 and protocol 4 as the "
          "safetensors save, and maps as clcp-lightning",
          "[import][ordered-dict]") {
  SKIP_WITHOUT_OD_FIXTURES();
  const auto want = clcp::load_safetensors(od_fixtures() / "clcp_lightning.safetensors");
  REQUIRE(want.size() == 150 + 4);
  auto body = clcp::load_safetensors(od_fixtures() / "timm.safetensors");
  body.erase("head.weight");
  body.erase("head.bias");
  for (const std::string file : {"clcp_lightning.ckpt", "clcp_lightning_p4.ckpt"}) {
    INFO(file);
    const auto f = clcp::read_checkpoint(od_fixtures() / file);
    CHECK(f.container == "torch-zip");
    CHECK(f.wrapper == "lightning");
    // AttributeDict became a dict; the plain class in hyper_parameters stays a placeholder.
    CHECK(f.placeholders == std::vector<std::string>{"clcp_cfg.Config"});
    require_exact(f.tensors, want);
    const auto w = clcp::import_vit_weights(od_fixtures() / file);
    CHECK(w.mapped.layout == "clcp-lightning");
    CHECK(w.mapped.dropped == std::vector<std::string>{"image_encoder.projection.weight", "lidar_encoder.stem.weight",
                                                       "point_cloud_encoder.conv0.weight", "temperature"});
    require_exact(w.mapped.tensors, body);
  }
}
