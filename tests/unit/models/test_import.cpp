// Weight import: PyTorch zip checkpoints through LibTorch's unpickler, the key maps of every layout the thesis used,
// pos_embed resizing, the grouped preflight, `weights inspect` and the init registry. Fixtures: test_import_fixtures.hpp.
#include <catch2/catch.hpp>

#include "models/import/checkpoint_reader.hpp"
#include "models/import/import_weights.hpp"
#include "models/import/key_map.hpp"
#include "models/import/registry.hpp"
#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "support/test_paths.hpp"
#include "test_import_fixtures.hpp"

namespace fs = std::filesystem;
using clcp::test::error_of;
using clcp::test::import_fixtures;

namespace {

#define SKIP_WITHOUT_PYTHON()                                         \
  if (import_fixtures().empty()) {                                    \
    WARN("skipped: no venv python at " << CLCP_VENV_PYTHON);          \
    return;                                                           \
  }

// The 150 backbone tensors of the safetensors export (timm names, head.* removed).
std::map<std::string, torch::Tensor> reference_body() {
  auto all = clcp::load_safetensors(import_fixtures() / "timm.safetensors");
  all.erase("head.weight");
  all.erase("head.bias");
  return all;
}

void require_same(const std::map<std::string, torch::Tensor>& got, const std::map<std::string, torch::Tensor>& want) {
  REQUIRE(got.size() == want.size());
  for (const auto& [k, v] : want) {
    INFO(k);
    REQUIRE(got.count(k));
    REQUIRE(got.at(k).device().is_cpu());
    REQUIRE(torch::equal(got.at(k), v));
  }
}

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST_CASE("torch.save zip checkpoints (plain dict, state_dict/model wrappers, module. prefix, cuda-tagged storages) "
          "give the safetensors export's tensors",
          "[slow][import]") {
  SKIP_WITHOUT_PYTHON();
  const auto want = reference_body();
  REQUIRE(want.size() == 150);
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {"plain.pth", "", "timm"},
      {"ordered.pth", "", "timm"},  // model.state_dict(): an OrderedDict with _metadata (pickle_rewrite.hpp)
      {"wrapped_state_dict.pth", "state_dict", "timm"},
      {"wrapped_model.pth", "model", "timm"},
      {"module.pth", "", "timm+module"},
      {"cuda_tagged.pth", "", "timm"},
      {"timm.safetensors", "", "timm"}};
  for (const auto& [file, wrapper, layout] : cases) {
    INFO(file);
    const auto w = clcp::import_vit_weights(import_fixtures() / file);
    CHECK(w.file.container == (file.ends_with(".pth") ? "torch-zip" : "safetensors"));
    CHECK(w.file.wrapper == wrapper);
    CHECK(w.mapped.layout == layout);
    CHECK(w.mapped.dropped == std::vector<std::string>{"head.bias", "head.weight"});
    require_same(w.mapped.tensors, want);
  }
}

TEST_CASE("A pickle LibTorch cannot rebuild stops with one line naming the construct, the file and the conversion",
          "[slow][import]") {
  SKIP_WITHOUT_PYTHON();
  // A class defined in the saving script (__main__) is special-cased by LibTorch and cannot be resolved.
  const auto main_class = error_of([] { clcp::read_checkpoint(import_fixtures() / "clcp_main_class.ckpt"); });
  CHECK_THAT(main_class, Catch::Contains("clcp_main_class.ckpt") && Catch::Contains("__main__.Custom") &&
                             Catch::Contains("safetensors.torch") && Catch::Contains("README.md"));
  CHECK(main_class.find('\n') == std::string::npos);
  // numpy objects are rebuilt with REDUCE then BUILD: the class is named.
  CHECK_THAT(error_of([] { clcp::read_checkpoint(import_fixtures() / "clcp_numpy.ckpt"); }),
             Catch::Contains("numpy") && Catch::Contains("REDUCE + BUILD"));
  CHECK_THAT(error_of([] { clcp::read_checkpoint(import_fixtures() / "legacy.pth"); }),
             Catch::Contains("legacy") && Catch::Contains("safetensors"));
}

TEST_CASE("LIP-Loc checkpoints map to timm names, and fc, lidar tower and projection heads are dropped", "[import]") {
  SKIP_WITHOUT_PYTHON();
  const auto want = reference_body();
  const auto full = clcp::import_vit_weights(import_fixtures() / "liploc.pth");
  CHECK(full.mapped.layout == "liploc");
  CHECK(has(full.mapped.dropped, "encoder_camera.fc.weight"));
  CHECK(has(full.mapped.dropped, "encoder_lidar.model.blocks.0.attn.qkv.weight"));
  CHECK(has(full.mapped.dropped, "projection_camera.projection.weight"));
  CHECK(full.mapped.dropped.size() == 2 + 150 + 2);
  require_same(full.mapped.tensors, want);
  const auto cam = clcp::import_vit_weights(import_fixtures() / "liploc_camera.safetensors");
  CHECK(cam.mapped.layout == "liploc");
  CHECK(cam.mapped.dropped == std::vector<std::string>{"fc.bias", "fc.weight"});
  require_same(cam.mapped.tensors, want);
}

TEST_CASE("CLCP Lightning checkpoints load with optimizer, loops, callbacks and hyper_parameters around the "
          "state_dict, and a custom class becomes a placeholder",
          "[import]") {
  SKIP_WITHOUT_PYTHON();
  const auto want = reference_body();
  for (const std::string file : {"clcp.ckpt", "clcp_custom.ckpt"}) {
    INFO(file);
    const auto w = clcp::import_vit_weights(import_fixtures() / file);
    CHECK(w.file.wrapper == "lightning");
    CHECK(w.mapped.layout == "clcp-lightning");
    CHECK(w.mapped.dropped == std::vector<std::string>{"image_encoder.projection.weight",
                                                       "lidar_encoder.stem.weight",
                                                       "point_cloud_encoder.conv0.weight", "temperature"});
    require_same(w.mapped.tensors, want);
  }
  const auto custom = clcp::read_checkpoint(import_fixtures() / "clcp_custom.ckpt");
  CHECK(custom.placeholders == std::vector<std::string>{"clcpcfg.Config"});
  // One optimizer (a one-element list) loads too.
  CHECK(clcp::read_checkpoint(import_fixtures() / "clcp_one_optimizer.ckpt").tensors.size() == 154);
  // The usual Lightning file: state_dict is model.state_dict(), an OrderedDict with _metadata.
  const auto real = clcp::import_vit_weights(import_fixtures() / "clcp_real.ckpt");
  CHECK(real.file.wrapper == "lightning");
  require_same(real.mapped.tensors, want);
}

TEST_CASE("mmseg and mmpretrain Segmenter checkpoints map back to timm backbone names and mmseg head names",
          "[import]") {
  SKIP_WITHOUT_PYTHON();
  const auto want = reference_body();
  const auto file = clcp::read_checkpoint(import_fixtures() / "mmseg_iter.pth");
  CHECK(file.wrapper == "state_dict");
  const auto vit = clcp::map_to_timm_vit(file.tensors);
  CHECK(vit.layout == "mmseg-vit");
  require_same(vit.tensors, want);
  const auto seg = clcp::map_segmenter(file.tensors);
  CHECK(seg.layout == "segmenter/mmseg-vit");
  CHECK(seg.dropped == std::vector<std::string>{"decode_head.conv_seg.bias", "decode_head.conv_seg.weight"});
  CHECK(seg.tensors.size() == 150 + 2);
  CHECK(torch::equal(seg.tensors.at("backbone.blocks.7.attn.qkv.weight"), want.at("blocks.7.attn.qkv.weight")));
  CHECK(torch::equal(seg.tensors.at("backbone.norm.weight"), want.at("norm.weight")));
  CHECK(seg.tensors.count("decode_head.cls_emb"));
  const auto tb = clcp::map_segmenter(clcp::load_safetensors(import_fixtures() / "mmpretrain_iter.safetensors"));
  CHECK(tb.layout == "segmenter/mmpretrain-timm");
  CHECK(torch::equal(tb.tensors.at("backbone.patch_embed.proj.weight"), want.at("patch_embed.proj.weight")));
}

TEST_CASE("mmseg >= 1.2 weights without the patch-embed bias get a zero bias (the same function)", "[import]") {
  std::map<std::string, torch::Tensor> d{{"patch_embed.projection.weight", torch::ones({384, 3, 16, 16})},
                                         {"layers.0.ln1.weight", torch::ones({384})},
                                         {"ln1.bias", torch::ones({384})}};
  const auto m = clcp::map_to_timm_vit(d);
  REQUIRE(m.tensors.count("patch_embed.proj.bias"));
  CHECK(m.tensors.at("patch_embed.proj.bias").abs().sum().item<float>() == 0.0f);
  CHECK(m.tensors.count("blocks.0.norm1.weight"));
  CHECK(m.tensors.count("norm.bias"));
  CHECK(m.notes.size() == 1);
}

TEST_CASE("A 384-px ViT-S/16 imports with pos_embed resized 24x24 -> 14x14 as timm's resample_abs_pos_embed",
          "[import]") {
  SKIP_WITHOUT_PYTHON();
  const auto w = clcp::import_vit_weights(import_fixtures() / "vit384.safetensors");
  const auto ref = clcp::load_safetensors(import_fixtures() / "vit384_ref.safetensors").at("pos_embed");
  const auto got = w.mapped.tensors.at("pos_embed");
  REQUIRE(got.sizes().vec() == std::vector<int64_t>{1, 197, 384});
  CHECK((got - ref).abs().max().item<double>() <= 1e-5);
  CHECK(w.mapped.notes == std::vector<std::string>{"pos_embed resized 24x24 -> 14x14 (bicubic, antialias, as timm)"});
  clcp::VisionTransformer vit;
  clcp::load_vit_checked(*vit, w.mapped, "vit384.safetensors");  // every other tensor fits as is
}

TEST_CASE("The preflight names the key group of every problem in one line and copies nothing", "[import]") {
  SKIP_WITHOUT_PYTHON();
  clcp::VisionTransformer vit;
  vit->init_weights(3);
  const auto before = vit->norm->weight.clone();
  const auto w = clcp::import_vit_weights(import_fixtures() / "missing_qkv.safetensors");
  const auto msg = error_of([&] { clcp::load_vit_checked(*vit, w.mapped, "missing_qkv.safetensors"); });
  CHECK_THAT(msg, Catch::Contains("missing_qkv.safetensors") &&
                      Catch::Contains("blocks.3: 1 missing (blocks.3.attn.qkv.weight)"));
  CHECK(msg.find('\n') == std::string::npos);
  CHECK(torch::equal(vit->norm->weight, before));
}

TEST_CASE("Shape mismatches, non-finite values and unknown keys are grouped by patch_embed/blocks.N/norm/other",
          "[import]") {
  clcp::VisionTransformer vit;
  vit->init_weights(1);
  clcp::MappedWeights w;
  w.layout = "timm";
  for (const auto& [k, v] : clcp::state_dict(*vit)) w.tensors[k] = v.clone();
  w.tensors["blocks.5.mlp.fc1.bias"] = torch::zeros({10});
  w.tensors["norm.weight"][0] = std::numeric_limits<float>::quiet_NaN();
  w.tensors["fc_norm.weight"] = torch::ones({384});
  w.tensors.erase("patch_embed.proj.bias");
  const auto msg = error_of([&] { clcp::load_vit_checked(*vit, w, "x.safetensors"); });
  CHECK_THAT(msg, Catch::Contains("patch_embed: 1 missing (patch_embed.proj.bias); blocks.5: 1 shape mismatches "
                                  "(blocks.5.mlp.fc1.bias: file [10] vs model [1536]); norm: 1 non-finite "
                                  "(norm.weight); other: 1 unexpected (fc_norm.weight)"));
}

TEST_CASE("Weights of another ViT than ViT-S/16 are refused with the offending shape", "[import]") {
  std::map<std::string, torch::Tensor> tiny{{"patch_embed.proj.weight", torch::zeros({192, 3, 16, 16})}};
  CHECK_THAT(error_of([&] { clcp::map_to_timm_vit(tiny, 14, "tiny.pth"); }),
             Catch::Contains("tiny.pth: patch_embed.proj.weight is [192,3,16,16]") &&
                 Catch::Contains("expected [384,3,16,16]"));
  std::map<std::string, torch::Tensor> deep{{"blocks.23.norm1.weight", torch::zeros({384})}};
  CHECK_THAT(error_of([&] { clcp::map_to_timm_vit(deep, 14, "deep.pth"); }),
             Catch::Contains("24 transformer blocks, expected 12"));
}

TEST_CASE("weights inspect lists format, layout, key groups, parameters, sha256 and the registry match", "[import]") {
  SKIP_WITHOUT_PYTHON();
  const fs::path file = import_fixtures() / "timm.safetensors";
  const auto lines = clcp::inspect_weights(file, clcp::default_registry_path());
  const auto line = [&](const std::string& prefix) {
    for (const auto& l : lines)
      if (l.rfind(prefix, 0) == 0) return l;
    return std::string("(no line " + prefix + ")");
  };
  CHECK(line("format:") == "format: safetensors");
  CHECK(line("layout:") == "layout: timm");
  CHECK(line("dropped:") == "dropped: 2 keys (head.bias, head.weight)");
  CHECK(line("group patch_embed:") ==
        "group patch_embed: 2 tensors, 295296 parameters: proj.bias [384], proj.weight [384,3,16,16]");
  CHECK(line("group pos_embed/cls_token:") ==
        "group pos_embed/cls_token: 2 tensors, 76032 parameters: cls_token [1,1,384], pos_embed [1,197,384]");
  CHECK_THAT(line("group blocks.0:"), Catch::StartsWith("group blocks.0: 12 tensors, 1774464 parameters: attn.proj.bias "
                                                        "[384], attn.proj.weight [384,384], attn.qkv.bias [1152]"));
  CHECK(line("group blocks.11:") == "group blocks.11: 12 tensors, 1774464 parameters (as blocks.0)");
  CHECK(line("group norm:") == "group norm: 2 tensors, 768 parameters: bias [384], weight [384]");
  CHECK(line("parameters:") == "parameters: 21665664");  // liploc_reference.md §5.2: ViT-S body 21,665,664
  const std::string sha = clcp::sha256_file(file);
  CHECK(line("sha256:") == "sha256: " + sha);
  CHECK(line("registry:") == "registry: unregistered ViT-S/16 (timm layout)");
  CHECK(line("loads into") == "loads into ViT-S/16: yes, all 150 tensors");
  // A registry that knows this file's sha256 names it.
  clcp::test::TempDir tmp;
  auto reg = clcp::read_json(clcp::default_registry_path());
  reg["inits"]["imagenet"]["sha256"] = sha;
  clcp::write_json_atomic(tmp.path / "registry.json", reg);
  const auto named = clcp::inspect_weights(file, tmp.path / "registry.json");
  CHECK(std::count_if(named.begin(), named.end(), [](const std::string& l) { return l.rfind("registry: imagenet (", 0) == 0; }) == 1);
}

TEST_CASE("The registry lists the thesis's inits and never-released CLCP epochs say so", "[import]") {
  const auto reg = clcp::load_registry();
  std::vector<std::string> names;
  for (const auto& e : reg) names.push_back(e.name);
  for (const std::string n : {"imagenet", "liploc-kitti", "liploc-kitti360", "clcp@ep11", "clcp@ep19", "clcp@ep35",
                              "clcp@ep67"})
    CHECK(has(names, n));
  for (const auto& e : reg) {
    INFO(e.name);
    CHECK(e.released == (e.name.rfind("clcp@", 0) != 0));
    CHECK_FALSE(e.obtain.empty());
  }
  CHECK(reg[std::distance(names.begin(), std::find(names.begin(), names.end(), "imagenet"))].files.front() ==
        "vit_small_patch16_224.augreg_in21k_ft_in1k.safetensors");
}

TEST_CASE("an --init name resolves registry names through the user config and --weights-dir and names the file when absent",
          "[import]") {
  clcp::test::TempDir tmp;
  clcp::WeightsLookup lookup;
  lookup.user_config = tmp.path / "none.json";
  const auto hint = error_of([&] { clcp::resolve_init("imagenet", lookup); });
  CHECK_THAT(hint, Catch::Contains("--init imagenet: no weights file; put "
                                   "vit_small_patch16_224.augreg_in21k_ft_in1k.safetensors into a folder passed as "
                                   "--weights-dir DIR") &&
                       Catch::Contains("huggingface.co/timm/vit_small_patch16_224.augreg_in21k_ft_in1k"));
  CHECK(hint.find('\n') == std::string::npos);
  CHECK_THAT(error_of([&] { clcp::resolve_init("clcp@ep19", lookup); }), Catch::Contains("never released"));
  CHECK_THAT(error_of([&] { clcp::resolve_init("imagenett", lookup); }),
             Catch::Contains("neither a known init (") && Catch::Contains("imagenet"));

  fs::create_directories(tmp.path / "w");
  clcp::write_atomic(tmp.path / "w" / "liploc_vit_small_patch16_224.pth", "x");
  lookup.weights_dir = tmp.path / "w";
  const auto r = clcp::resolve_init("liploc-kitti", lookup);
  CHECK(r.path == tmp.path / "w" / "liploc_vit_small_patch16_224.pth");
  REQUIRE(r.entry);
  CHECK(r.entry->layout == "liploc");

  clcp::write_atomic(tmp.path / "mine.safetensors", "x");
  clcp::write_json_atomic(tmp.path / "weights.json", {{"imagenet", (tmp.path / "mine.safetensors").string()}});
  lookup.user_config = tmp.path / "weights.json";
  CHECK(clcp::resolve_init("imagenet", lookup).path == tmp.path / "mine.safetensors");
  CHECK(clcp::resolve_init("file:" + (tmp.path / "mine.safetensors").string(), lookup).path ==
        tmp.path / "mine.safetensors");
  CHECK(clcp::resolve_init((tmp.path / "mine.safetensors").string(), lookup).path == tmp.path / "mine.safetensors");
  CHECK(clcp::resolve_init("random", lookup).random);
}
