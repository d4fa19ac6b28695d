// The supervised positive control (suite/pretrain/methods/supervised/): its loss and confusion counts on hand-made
// cases, its registration and variant names, its method_config validation, and two ci-scale runs through the generic
// loop on embedded A2D2 frames and labels to the same bytes, exporting the encoder in timm's names.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/safetensors.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/data/synth/synth.hpp"
#include "suite/pretrain/methods/registry.hpp"
#include "suite/pretrain/methods/supervised/supervised_model.hpp"
#include "suite/pretrain/pretrain.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"
#include "suite/protocol/pretrain_protocol.hpp"
#include "support/pretrain_log.hpp"
#include "support/python_oracle.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {

// Embedded A2D2 frames and labels, rendered once per process: 4 scenes × 8 frames at 480×302 (28 train, 4 val).
const fs::path& supervised_data_root() {
  static const test::TempDir dir;
  static const bool rendered = [] {
    synth::SynthOptions o;
    o.out = dir.path / "synth";
    o.seed = 5;
    o.train_images = o.val_images = o.acdc_val_per_condition = 0;
    o.threads = 2;
    o.a2d2.scenes = 4;
    o.a2d2.frames = 8;
    o.a2d2.scale = 0.25;
    synth::generate(o);
    return true;
  }();
  (void)rendered;
  static const fs::path root = dir.path / "synth";
  return root;
}

PretrainData supervised_data(double val_ratio) {
  A2D2Options ao;
  ao.val_ratio = val_ratio;
  PretrainData d;
  d.a2d2 = read_a2d2(find_a2d2_root(supervised_data_root()), ao);
  return d;
}

PretrainConfig config_of(const PretrainProtocol& p, uint64_t seed) {
  PretrainConfig c;
  c.epochs = p.epochs;
  c.batch_size = p.batch_size;
  c.schedule = {p.lr, p.warmup_epochs, p.warmup_start_lr, p.t_0, p.t_mult, p.eta_min};
  c.weight_decay = p.weight_decay;
  c.beta1 = p.beta1;
  c.beta2 = p.beta2;
  c.eps = p.eps;
  c.keep_epochs = p.keep_epochs;
  c.seed = seed;
  c.fingerprint = p.fingerprint();
  c.cell_id = "supervised-test";
  return c;
}

std::string build_error(const PretrainProtocol& p, const PretrainData& data) {
  MethodBuild mb;
  mb.protocol = &p;
  mb.data = &data;
  try {
    find_method("supervised").build(mb);
  } catch (const UserError& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST_CASE("the supervised loss is the cross-entropy averaged over the pixels not ignored, by hand on 2x2 pixels",
          "[methods][supervised]") {
  // two classes; pixels (0,0) logits (0, 0) label 0: ln 2; (0,1) (ln 3, 0) label 0: ln 4/3; (1,0) (0, ln 3) label 0:
  // ln 4; (1,1) label 255: ignored. Mean = (ln 2 + ln 4/3 + ln 4) / 3 = ln(32/3) / 3.
  const double l3 = std::log(3.0);
  auto logits = torch::tensor({0.0, l3, 0.0, 5.0, 0.0, 0.0, l3, -5.0}, torch::kFloat64).reshape({1, 2, 2, 2});
  logits.set_requires_grad(true);
  const auto labels = torch::tensor({0, 0, 0, 255}, torch::kInt64).reshape({1, 2, 2});
  const auto loss = segmentation_loss(logits, labels);
  CHECK(loss.item<double>() == Approx(std::log(32.0 / 3.0) / 3.0).epsilon(1e-12));
  loss.backward();
  // the ignored pixel gets no gradient; pixel (0,0): (softmax − onehot) / 3 = (−1/6, +1/6)
  CHECK(logits.grad()[0][0][1][1].item<double>() == 0.0);
  CHECK(logits.grad()[0][1][1][1].item<double>() == 0.0);
  CHECK(logits.grad()[0][0][0][0].item<double>() == Approx(-1.0 / 6.0));
  CHECK(logits.grad()[0][1][0][0].item<double>() == Approx(1.0 / 6.0));
  // confusion: predictions 0 (tie → first), 0, 1 for labels 0, 0, 0
  const auto cm = confusion_counts(logits.detach(), labels);
  CHECK(cm.equal(torch::tensor({2, 1, 0, 0}, torch::kInt64).reshape({2, 2})));
  // every pixel ignored: 0 with a gradient, not NaN
  auto l2 = torch::zeros({1, 2, 2, 2}, torch::kFloat64).set_requires_grad(true);
  const auto none = segmentation_loss(l2, torch::full({1, 2, 2}, 255, torch::kInt64));
  CHECK(none.item<double>() == 0.0);
  none.backward();
  CHECK(l2.grad().abs().sum().item<double>() == 0.0);
}

TEST_CASE("supervised is registered with its protocol, and its variant names go both ways", "[methods][supervised]") {
  const MethodInfo& m = find_method("supervised");
  CHECK(m.default_protocol == "supervised_a2d2");
  CHECK(m.towers == std::vector<std::string>{"image"});
  CHECK(method_of_init("supervised-b16@ep7") == &m);
  for (const std::string scale : {"full", "smoke", "ci"}) {
    const PretrainProtocol p = load_pretrain_protocol("supervised_a2d2", scale);
    CHECK(p.method == "supervised");
    CHECK(p.recipe_json()["method_config"] == p.method_config);  // in the fingerprint
    const std::string v = m.variant_name(p);
    CHECK(v == "b" + std::to_string(p.batch_size));
    const auto back = m.parse_variant(v);
    REQUIRE(back);
    CHECK(*back->batch_size == p.batch_size);
  }
  CHECK_FALSE(m.parse_variant("b16-lin"));
  CHECK_FALSE(m.parse_variant("b0"));
  CHECK_FALSE(m.parse_variant("16"));
}

TEST_CASE("supervised refuses an unknown or bad method_config key, and data without labels, in one line",
          "[methods][supervised]") {
  const PretrainData data = supervised_data(0.15);
  const nlohmann::json file = read_json(fs::path(CLCP_SOURCE_DIR) / "protocols/supervised_a2d2.json");
  auto with = [&](const std::string& key, const nlohmann::json& value) {
    nlohmann::json j = file;
    j["method_config"][key] = value;
    return pretrain_protocol_from_json(j, "supervised_a2d2.json", "ci");
  };
  CHECK(build_error(with("crop_scal", 0.5), data) ==
        "supervised_a2d2.json: unknown key 'method_config.crop_scal'; remove it or check its spelling (see "
        "docs/protocols.md)");
  CHECK(build_error(with("flip_p", 2), data) ==
        "supervised_a2d2.json: key 'method_config.flip_p' must be in [0, 1]; fix the value");
  CHECK(build_error(with("crop_scale", nlohmann::json::array({0.5, 0.1})), data) ==
        "supervised_a2d2.json: key 'method_config.crop_scale' must be [lo, hi] with 0 < lo <= hi <= 1 (shares of the "
        "frame's area); fix the value");
  // a folder of images has no labels
  PretrainData images;
  images.images = ImageFolder{};
  CHECK_THAT(build_error(load_pretrain_protocol("supervised_a2d2", "ci"), images),
             Catch::Contains("the supervised method trains on A2D2's labelled camera frames"));
  // an A2D2 copy without its label folder: the first missing label, named with the fix
  test::TempDir bare;
  fs::copy(supervised_data_root() / "a2d2", bare.path / "a2d2", fs::copy_options::recursive);
  fs::remove_all(bare.path / "a2d2/camera_lidar_semantic/20200101_100000/label");
  PretrainData unlabelled;
  unlabelled.a2d2 = read_a2d2(find_a2d2_root(bare.path), A2D2Options{});
  CHECK_THAT(build_error(load_pretrain_protocol("supervised_a2d2", "ci"), unlabelled),
             Catch::StartsWith((bare.path / "a2d2/camera_lidar_semantic/20200101_100000/label/cam_front_center/"
                                            "20200101100000_label_frontcenter_000000000.png").string() +
                               ": no label PNG for camera frame 20200101100000_camera_frontcenter_000000000.png; the "
                               "supervised method needs A2D2's label/cam_front_center folder"));
}

TEST_CASE("two ci-scale supervised pretrainings on the embedded labels give the same bytes and a timm encoder",
          "[methods][supervised][slow]") {
  const PretrainProtocol p = load_pretrain_protocol("supervised_a2d2", "ci");
  const PretrainData data = supervised_data(p.val_ratio);
  test::TempDir a, b;
  for (const fs::path& dir : {a.path, b.path}) {
    MethodBuild mb;
    mb.protocol = &p;
    mb.data = &data;
    mb.seed = 0;
    auto m = find_method("supervised").build(mb);
    CHECK(m->train_batches() == 2);
    CHECK(m->val_batches() == 1);
    const auto r = pretrain(*m, config_of(p, 0), dir);
    CHECK(r.completed);
  }
  const std::string log = test::deterministic_pretrain_log(a.path);
  CHECK(log == test::deterministic_pretrain_log(b.path));
  const auto last = nlohmann::json::parse(log.substr(log.rfind('\n', log.size() - 2) + 1));
  CHECK(last["diagnostic"]["name"] == "pixel accuracy");
  CHECK(last["diagnostic"]["chance"].get<double>() == last["majority_share"].get<double>());
  CHECK(last["diagnostic"]["value"].get<double>() == last["pixel_accuracy"].get<double>());  // val, not train
  CHECK(last.contains("train_pixel_accuracy"));
  CHECK(last["majority_share"].get<double>() > 0.1);
  CHECK(last["val_pixels"].get<int64_t>() > 4 * 224 * 224 / 2);  // 4 val frames, most pixels labelled
  CHECK(last["classes_present"].get<int64_t>() >= 5);
  CHECK(std::isfinite(last["val_loss"].get<double>()));
  CHECK(last["grad_norm"]["head"].get<double>() > 0);
  // the export: the ViT-S/16 alone, in timm's names (no head)
  const auto enc = load_safetensors(encoder_export_path(a.path, 1));
  CHECK(enc.count("blocks.11.mlp.fc2.weight") == 1);
  CHECK(enc.count("cls_token") == 1);
  CHECK(enc.count("head.weight") == 0);
  CHECK(sha256_file(encoder_export_path(a.path, 1)) == sha256_file(encoder_export_path(b.path, 1)));
  // the classifier head is trained and checkpointed with the encoder
  const auto ck = load_pretrain_checkpoint(*find_latest_pretrain_checkpoint(a.path / "checkpoints"));
  CHECK(ck.optimizer.count("head.weight.exp_avg") == 1);
}
