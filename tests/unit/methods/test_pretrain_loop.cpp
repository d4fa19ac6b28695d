// The pretraining loop on a synthetic pair source: determinism, resume after an interruption mid-epoch, the frozen
// lidar tower, the exported encoder in timm, and the thesis's Lightning checkpoint layout.
#include <catch2/catch.hpp>

#include <fstream>

#include "models/clcp/import_clcp.hpp"
#include "models/safetensors.hpp"
#include "models/state_dict.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"
#include "suite/pretrain/methods/clcp/clcp_method.hpp"
#include "suite/pretrain/pretrain.hpp"
#include "suite/pretrain/pretrain_checkpoint.hpp"
#include "support/python_oracle.hpp"
#include "support/pretrain_log.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {

PairBatch synthetic_batch(uint64_t key, int64_t batch) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(key);
  PairBatch b;
  b.images = torch::randn({batch, 3, 224, 224}, gen);
  for (int64_t i = 0; i < batch; ++i) {
    auto p = torch::rand({300, 4}, gen) * torch::tensor({20.0f, 10.0f, 3.0f, 255.0f});
    b.points.push_back(p);
  }
  return b;
}

PairSource source(uint64_t salt, int64_t batches, bool by_epoch) {
  return {batches, [=](int64_t epoch, int64_t i) {
            return synthetic_batch(salt * 1000 + (by_epoch ? static_cast<uint64_t>(epoch) * 100 : 0) + i, 2);
          }};
}

PretrainConfig config() {
  PretrainConfig c;
  c.epochs = 2;
  c.batch_size = 2;
  c.schedule = {1e-4, 1, 1e-6, 1, 2, 1e-5};
  c.keep_epochs = {0};
  c.seed = 3;
  c.fingerprint = "test";
  c.cell_id = "test-cell";
  return c;
}

ClcpModel fresh_model(const std::string& head = "linear") {
  ClcpModel m(ClcpModelOptions{head});
  m->init_weights(3);
  return m;
}

// CLCP through the generic loop on the synthetic sources: train 2 batches per epoch, val 1.
PretrainResult run_clcp(ClcpModel& m, const PretrainConfig& cfg, const fs::path& dir,
                        const std::string& lidar_mode = "trainable",
                        const std::function<void(const PretrainProgress&)>& progress = {}) {
  ClcpMethodOptions o;
  o.lidar_mode = lidar_mode;
  ClcpMethod method(m, source(1, 2, true), source(2, 1, false), o);
  return pretrain(method, cfg, dir, progress);
}

}  // namespace

TEST_CASE("two pretraining runs give the same epoch metrics and exported encoders, and a resume mid-epoch too",
          "[slow][pretrain]") {
  test::TempDir a, b, c;
  {
    ClcpModel m = fresh_model("mlp");
    const auto r = run_clcp(m, config(), a.path);
    CHECK(r.completed);
    CHECK(r.epochs_done == 2);
  }
  {
    ClcpModel m = fresh_model("mlp");
    run_clcp(m, config(), b.path);
  }
  const std::string log_a = clcp::test::deterministic_pretrain_log(a.path);
  CHECK(log_a == clcp::test::deterministic_pretrain_log(b.path));
  CHECK(std::count(log_a.begin(), log_a.end(), '\n') == 2);
  CHECK(sha256_file(encoder_export_path(a.path, 1)) == sha256_file(encoder_export_path(b.path, 1)));
  // epoch 0 is kept (keep_epochs): its export and weights, not its AdamW state (only the newest epoch's serves a resume)
  CHECK(fs::exists(encoder_export_path(a.path, 0)));
  CHECK(fs::exists(a.path / "checkpoints" / "epoch_00.safetensors"));
  CHECK_FALSE(fs::exists(a.path / "checkpoints" / "epoch_00.state.safetensors"));
  CHECK(fs::exists(a.path / "checkpoints" / "epoch_01.state.safetensors"));
  fs::remove_all(b.path);  // each of these folders holds ~1 GB of checkpoints; the disk may be shared
  const auto first = nlohmann::json::parse(log_a.substr(0, log_a.find('\n')));
  CHECK(first["chance_loss"].get<double>() == Approx(std::log(2.0)));
  CHECK(first["lr"].get<double>() == Approx(1e-6));
  CHECK(first["retrieval"]["gallery"].get<int64_t>() == 2);
  CHECK(first["grad_norm"]["lidar"].get<double>() > 0);

  // Interrupted after the first step of epoch 1: the rerun starts epoch 1 again from the epoch-0 checkpoint.
  std::atomic<bool> stop{false};
  {
    ClcpModel m = fresh_model("mlp");
    auto cfg = config();
    cfg.stop = &stop;
    int steps = 0;
    const auto r = run_clcp(m, cfg, c.path, "trainable", [&](const PretrainProgress&) {
      if (++steps == 3) stop = true;
    });
    CHECK_FALSE(r.completed);
    CHECK(r.epochs_done == 1);
  }
  {
    ClcpModel m = fresh_model("mlp");
    const auto r = run_clcp(m, config(), c.path);
    CHECK(r.resumed_from == 0);
    CHECK(r.completed);
  }
  CHECK(clcp::test::deterministic_pretrain_log(c.path) == log_a);
  CHECK(sha256_file(encoder_export_path(c.path, 1)) == sha256_file(encoder_export_path(a.path, 1)));
}

TEST_CASE("a frozen lidar tower gets no gradient and no optimiser state while its BatchNorm statistics move",
          "[slow][pretrain]") {
  test::TempDir dir;
  ClcpModel m = fresh_model();
  const auto before = state_dict(*m);
  std::map<std::string, torch::Tensor> copy;
  for (const auto& [k, v] : before) copy[k] = v.clone();
  auto cfg = config();
  cfg.epochs = 1;
  run_clcp(m, cfg, dir.path, "frozen");
  const auto after = state_dict(*m);
  const std::string kernel = "point_cloud_encoder.model.backbone.encoder.2.1.net.0.kernel";
  const std::string bn = "point_cloud_encoder.model.backbone.conv_input.0.net.1.running_mean";
  CHECK(torch::equal(copy.at(kernel), after.at(kernel)));
  CHECK_FALSE(torch::equal(copy.at(bn), after.at(bn)));
  CHECK_FALSE(torch::equal(copy.at("point_cloud_encoder.projection.weight"), after.at("point_cloud_encoder.projection.weight")));
  CHECK_FALSE(torch::equal(copy.at("image_encoder.model.blocks.0.attn.qkv.weight"), after.at("image_encoder.model.blocks.0.attn.qkv.weight")));
  CHECK_FALSE(torch::equal(copy.at("temperature"), after.at("temperature")));
  const auto latest = find_latest_pretrain_checkpoint(dir.path / "checkpoints");
  REQUIRE(latest);
  const auto state = load_pretrain_checkpoint(*latest).optimizer;
  for (const auto& [k, v] : state) CHECK(k.rfind("point_cloud_encoder.model.", 0) != 0);
  CHECK(state.count("point_cloud_encoder.projection.weight.exp_avg") == 1);
  CHECK(state.count("temperature.exp_avg") == 1);
}

TEST_CASE("the exported encoder loads into timm with zero missing keys and equals the checkpoint's image encoder",
          "[slow][pretrain]") {
  if (!test::python_available()) {
    WARN("SKIPPED: no Python venv (build/venv) with timm");
    return;
  }
  test::TempDir dir;
  ClcpModel m = fresh_model();
  auto cfg = config();
  cfg.epochs = 1;
  run_clcp(m, cfg, dir.path);
  const auto exported = encoder_export_path(dir.path, 0);
  const auto ck = load_pretrain_checkpoint(*find_latest_pretrain_checkpoint(dir.path / "checkpoints"));
  const auto enc = load_safetensors(exported);
  CHECK(enc.size() == 150);
  for (const auto& [k, v] : enc) CHECK(torch::equal(v, ck.model.at("image_encoder.model." + k)));
  const int rc = test::run_python(dir.path, fmt::format(R"PY(
import sys, timm, torch
from safetensors.torch import load_file
m = timm.create_model('vit_small_patch16_224', pretrained=False, num_classes=0)
r = m.load_state_dict(load_file('{}'), strict=True)
assert not r.missing_keys and not r.unexpected_keys, r
print('timm loaded', len(m.state_dict()))
)PY", exported.string()));
  INFO(test::read_log(dir.path));
  CHECK(rc == 0);
}

TEST_CASE("a Lightning checkpoint with the thesis's key names loads into the pretraining model", "[slow][pretrain]") {
  if (!test::python_available()) {
    WARN("SKIPPED: no Python venv (build/venv)");
    return;
  }
  test::TempDir dir;
  ClcpModel m = fresh_model("mlp");
  // Python writes our model's tensors under the thesis's names (+ the unused decode head, an AttributeDict-like
  // hyper_parameters dict and Lightning's bookkeeping), once with point_cloud_encoder. and once with lidar_encoder.
  save_safetensors(dir.path / "ours.safetensors", state_dict(*m));
  const int rc = test::run_python(dir.path, fmt::format(R"PY(
import collections, torch
from safetensors.torch import load_file
sd = collections.OrderedDict(load_file('{0}/ours.safetensors'))
sd['point_cloud_encoder.model.decode_head.conv_seg.weight'] = torch.zeros(19, 96)
sd['point_cloud_encoder.model.decode_head.conv_seg.bias'] = torch.zeros(19)
ck = {{'epoch': 19, 'global_step': 1900, 'pytorch-lightning_version': '2.3.1', 'state_dict': sd,
       'hyper_parameters': {{'embed_dim': 384, 'temperature': 0.07, 'projection_type': 'mlp'}}}}
torch.save(ck, '{0}/clcp.ckpt')
old = collections.OrderedDict((k.replace('point_cloud_encoder.', 'lidar_encoder.'), v) for k, v in sd.items())
torch.save({{'state_dict': old}}, '{0}/old.ckpt')
)PY", dir.path.string()));
  INFO(test::read_log(dir.path));
  REQUIRE(rc == 0);
  for (const auto& [file, layout] : {std::pair{"clcp.ckpt", "clcp-lightning"}, std::pair{"old.ckpt", "clcp-lightning (lidar_encoder.)"}}) {
    ClcpModel target = fresh_model("mlp");
    torch::NoGradGuard ng;
    for (auto& p : target->parameters()) p.zero_();
    const ClcpImport r = load_clcp_checkpoint(*target, dir.path / file);
    CHECK(r.layout == layout);
    CHECK(r.dropped.size() == 2);
    const auto want = state_dict(*m), got = state_dict(*target);
    for (const auto& [k, v] : want) CHECK(torch::equal(v, got.at(k)));
  }
  ClcpModel linear = fresh_model("linear");
  CHECK_THAT(test::error_of([&] { load_clcp_checkpoint(*linear, dir.path / "clcp.ckpt"); }),
             Catch::Contains("linear head") && Catch::Contains("point_cloud_encoder.projection"));
}
