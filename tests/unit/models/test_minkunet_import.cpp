// Import of MinkUNet34-W32 checkpoints written by Python with mmdet3d 1.4.0's exact key names and shapes
// (sparse_conv_reference.md §2.4: an mmengine checkpoint {"meta", "state_dict"} saved with torch.save and named as
// mmdet's publish_model names files, <stem>-<sha256[:8]>.pth), the CLCP Lightning layout, and the refusals.
#include <catch2/catch.hpp>

#include "models/import/checkpoint_reader.hpp"
#include "models/import/registry.hpp"
#include "models/lidar/import_minkunet.hpp"
#include "models/safetensors.hpp"
#include "suite/core/fsio.hpp"
#include "support/python_oracle.hpp"

using namespace clcp;
using namespace clcp::lidar;
namespace fs = std::filesystem;

namespace {

// The key list is built from mmdet3d's MinkUNetBackbone config (encoder_blocks [2,3,4,6], channels as in
// minkunet34_w32_torchsparse_8xb2-amp-laser-polar-mix-3x_semantickitti.py), not from our model.
const char* const kFixtures = R"PY(
import collections, hashlib, os, sys, torch
from safetensors.torch import save_file
out = sys.argv[1]
torch.manual_seed(0)
def conv(sd, n, k, cin, cout, width=None):
    sd[n + '.kernel'] = (torch.randn(k, cin, cout) if k > 1 else torch.randn(cin, cout)) * 0.05
def bn(sd, n, c):
    sd[n + '.weight'] = torch.rand(c) + 0.5
    sd[n + '.bias'] = torch.randn(c) * 0.1
    sd[n + '.running_mean'] = torch.randn(c) * 0.1
    sd[n + '.running_var'] = torch.rand(c) + 0.5
    sd[n + '.num_batches_tracked'] = torch.tensor(92880)
def convmod(sd, n, k, cin, cout):
    conv(sd, n + '.net.0', k, cin, cout); bn(sd, n + '.net.1', cout)
def basic(sd, n, cin, cout):
    conv(sd, n + '.net.0', 27, cin, cout); bn(sd, n + '.net.1', cout)
    conv(sd, n + '.net.3', 27, cout, cout); bn(sd, n + '.net.4', cout)
    if cin != cout:
        conv(sd, n + '.downsample.0', 1, cin, cout); bn(sd, n + '.downsample.1', cout)
def backbone(base=32, enc=(32, 64, 128, 256), blocks=(2, 3, 4, 6), dec=(256, 128, 96, 96), p='backbone.'):
    sd = collections.OrderedDict()
    convmod(sd, p + 'conv_input.0', 27, 4, base); convmod(sd, p + 'conv_input.1', 27, base, base)
    c = base
    for i in range(4):
        convmod(sd, p + f'encoder.{i}.0', 8, c, c)
        for j in range(blocks[i]):
            basic(sd, p + f'encoder.{i}.{j + 1}', c if j == 0 else enc[i], enc[i])
        c = enc[i]
    lat = [enc[2], enc[1], enc[0], base]
    for i in range(4):
        convmod(sd, p + f'decoder.{i}.0', 8, c, dec[i])
        basic(sd, p + f'decoder.{i}.1.0', dec[i] + lat[i], dec[i]); basic(sd, p + f'decoder.{i}.1.1', dec[i], dec[i])
        c = dec[i]
    return sd
def publish(obj, stem):
    tmp = os.path.join(out, 'tmp.pth'); torch.save(obj, tmp)
    h = hashlib.sha256(open(tmp, 'rb').read()).hexdigest()
    os.rename(tmp, os.path.join(out, f'{stem}-{h[:8]}.pth'))
    return f'{stem}-{h[:8]}.pth'
meta = {'mmengine_version': '0.7.4', 'time': '20230512_233511', 'epoch': 36, 'iter': 179136, 'seed': 1234,
        'experiment_name': 'minkunet34_w32_torchsparse_8xb2-amp-laser-polar-mix-3x_semantickitti_20230512_233511',
        'dataset_meta': {'classes': ('car', 'bicycle', 'motorcycle'), 'palette': [[100, 150, 245], [100, 230, 245]],
                         'seg_valid_class_ids': tuple(range(19)), 'max_label': 259}}
sd = backbone()
sd['decode_head.conv_seg.weight'] = torch.randn(19, 96) * 0.05
sd['decode_head.conv_seg.bias'] = torch.zeros(19)
name = publish({'meta': meta, 'state_dict': sd},
               'minkunet34_w32_torchsparse_8xb2-amp-laser-polar-mix-3x_semantickitti_20230512_233511')
open(os.path.join(out, 'NAME'), 'w').write(name)
save_file({k[9:]: v.contiguous() for k, v in sd.items() if k.startswith('backbone.')}, os.path.join(out, 'bare.safetensors'))
print(len(sd), sum(v.numel() for k, v in sd.items() if v.is_floating_point() and 'running' not in k))
# CLCP Lightning layout: both towers and the temperature
lit = collections.OrderedDict()
for k, v in backbone(p='point_cloud_encoder.model.backbone.').items(): lit[k] = v
lit['image_encoder.model.cls_token'] = torch.zeros(1, 1, 384)
lit['point_cloud_encoder.projection.weight'] = torch.zeros(384, 96)
lit['temperature'] = torch.tensor(0.07)
torch.save({'epoch': 19, 'state_dict': lit}, os.path.join(out, 'clcp.ckpt'))
torch.save({'state_dict': backbone(base=16, enc=(16, 32, 64, 128), dec=(128, 64, 48, 48))}, os.path.join(out, 'w16.pth'))
sp = backbone()
sp['backbone.conv_input.0.net.0.weight'] = torch.zeros(32, 3, 3, 3, 4); del sp['backbone.conv_input.0.net.0.kernel']
torch.save({'state_dict': sp}, os.path.join(out, 'spconv.pth'))
short = backbone(); del short['backbone.encoder.2.3.net.3.kernel']
torch.save({'state_dict': short}, os.path.join(out, 'missing.pth'))
os.symlink(name, os.path.join(out, 'minkunet-deadbeef.pth'))  # relative: the folder is renamed
)PY";

fs::path fixtures() { return test::cached_python_fixtures("clcp_minkunet_import", kFixtures); }

}  // namespace

TEST_CASE("the mmdet3d MinkUNet34-W32 checkpoint loads key for key with 37,873,280 encoder parameters",
          "[slow][lidar]") {
  const fs::path dir = fixtures();
  if (dir.empty()) {
    WARN("SKIPPED: no Python venv (build/venv) to write the mmdet3d-layout checkpoint");
    return;
  }
  const fs::path file = dir / read_file(dir / "NAME");
  MinkUNet net;
  const MappedMinkUNet w = load_minkunet_checked(*net, file);
  CHECK(w.layout == "mmdet3d-minkunet");
  CHECK(w.dropped == std::vector<std::string>{"decode_head.conv_seg.bias", "decode_head.conv_seg.weight"});
  CHECK(w.tensors.size() == 378);
  CHECK(parameter_count(*net) == 37873280);
  CHECK(read_checkpoint(file).tensors.size() == 380);
  // Every tensor equals the same weights saved as safetensors by Python.
  const auto bare = load_safetensors(dir / "bare.safetensors");
  const auto sd = state_dict(*net);
  REQUIRE(bare.size() == sd.size());
  for (const auto& [k, v] : bare) {
    INFO(k);
    CHECK(torch::equal(v, sd.at(k)));
  }
  // weights inspect names the layout, 380 tensors, the parameter counts and whether it loads.
  const auto lines = inspect_minkunet(file, default_registry_path());
  const std::string all = fmt::format("{}", fmt::join(lines, "\n"));
  CHECK_THAT(all, Catch::Contains("layout: mmdet3d-minkunet"));
  CHECK_THAT(all, Catch::Contains("tensors: 380 in the file"));
  CHECK_THAT(all, Catch::Contains("parameters: 37873280 in the encoder (37875123 in the file"));
  CHECK_THAT(all, Catch::Contains("matches"));
  CHECK_THAT(all, Catch::Contains("loads into MinkUNet34-W32: yes, all 378 tensors"));
  // A registry entry known only by mmdet's file-name prefix (as minkunet34-semantickitti, "bef6cad0") matches it.
  const std::string name = file.filename().string();
  const std::string prefix = name.substr(name.size() - 12, 8);
  test::TempDir tmp;
  write_atomic(tmp.path / "registry.json",
               fmt::format(R"({{"inits": {{"minkunet-fixture": {{"description": "fixture", "encoder": "lidar", "files": ["{}"],
                 "sha256": null, "sha256_prefix": "{}", "obtain": "tests"}}}}}})", name, prefix));
  const auto with_entry = inspect_minkunet(file, tmp.path / "registry.json");
  CHECK_THAT(fmt::format("{}", fmt::join(with_entry, "\n")), Catch::Contains("registry: minkunet-fixture (fixture)"));
}

TEST_CASE("the lidar tower of a CLCP Lightning checkpoint loads and the image tower is dropped", "[lidar]") {
  const fs::path dir = fixtures();
  if (dir.empty()) {
    WARN("SKIPPED: no Python venv (build/venv)");
    return;
  }
  MinkUNet net;
  const MappedMinkUNet w = load_minkunet_checked(*net, dir / "clcp.ckpt");
  CHECK(w.layout == "clcp-lightning");
  CHECK(w.dropped.size() == 3);
  CHECK(w.tensors.size() == 378);
}

TEST_CASE("another width, the spconv layout, missing keys and a wrong file-name hash are refused in one line",
          "[lidar]") {
  const fs::path dir = fixtures();
  if (dir.empty()) {
    WARN("SKIPPED: no Python venv (build/venv)");
    return;
  }
  auto err = [&](const char* name) {
    return test::error_of([&] {
      MinkUNet net;
      load_minkunet_checked(*net, dir / name);
    });
  };
  CHECK_THAT(err("w16.pth"), Catch::Contains("[27,4,16]") && Catch::Contains("W16") && Catch::Contains("W32"));
  CHECK_THAT(err("spconv.pth"), Catch::Contains("spconv layout"));
  CHECK_THAT(err("missing.pth"), Catch::Contains("encoder.2: 1 missing (encoder.2.3.net.3.kernel)"));
  CHECK_THAT(err("minkunet-deadbeef.pth"), Catch::Contains("does not start with deadbeef"));
}
