// Integration: the finetune loop on a small real Segmenter (ViT + mask head with drop_path), through the adapter.
#include <catch2/catch.hpp>
#include <ATen/CPUGeneratorImpl.h>
#include <atomic>
#include <filesystem>
#include <torch/torch.h>

#include "models/segmenter.hpp"
#include "models/state_dict.hpp"
#include "suite/core/rng.hpp"
#include "suite/train/adapters.hpp"

using namespace clcp;
namespace fs = std::filesystem;

namespace {
Segmenter small_segmenter(uint64_t init_seed) {
  SegmenterOptions o;
  o.num_classes = 3;
  o.img_size = 32;
  o.embed_dim = 32;
  o.depth = 2;
  o.num_heads = 2;
  o.head_layers = 2;
  o.head_heads = 2;
  o.backbone_drop_path_rate = 0.2;  // non-zero so the drop_path keying matters for exact resume
  Segmenter m(o);
  m->init_weights(init_seed);
  return m;
}

TrainBatch batch(uint64_t t) {
  auto g = at::make_generator<at::CPUGeneratorImpl>(Stream(3, "batch", t).next_u64());
  return {torch::randn({2, 3, 32, 32}, g, torch::kFloat32), torch::randint(0, 3, {2, 32, 32}, g, torch::kInt64)};
}

FinetuneConfig config() {
  FinetuneConfig c;
  c.max_iters = 4;
  c.batch_size = 2;
  c.checkpoint_interval = 2;
  c.log_interval = 2;
  c.seed = 3;
  return c;
}
}  // namespace

TEST_CASE("a Segmenter with drop_path resumes bit-identically through the adapter", "[train]") {
  const fs::path root = fs::temp_directory_path() / ("clcp_train_seg_" + std::to_string(::getpid()));
  fs::remove_all(root);

  Segmenter full = small_segmenter(1);
  const auto before = state_dict(*full);
  std::map<std::string, torch::Tensor> initial;
  for (const auto& [k, v] : before) initial[k] = v.clone();
  CHECK(finetune(segmenter_trainable(full, 3), batch, config(), root / "full").completed);

  {
    Segmenter first = small_segmenter(1);
    std::atomic<bool> stop{false};
    auto cfg = config();
    cfg.stop = &stop;
    const auto r = finetune(segmenter_trainable(first, 3), batch, cfg, root / "resumed",
                            [&](const TrainProgress& p) { if (p.iter == 2) stop = true; });
    CHECK(r.iterations_done == 2);
  }
  Segmenter second = small_segmenter(99);
  const auto r = finetune(segmenter_trainable(second, 3), batch, config(), root / "resumed");
  CHECK(r.resumed_from == 2);
  CHECK(r.completed);

  const auto a = state_dict(*full), b = state_dict(*second);
  REQUIRE(a.size() == b.size());
  bool backbone_moved = false;
  for (const auto& [k, v] : a) {
    INFO(k);
    CHECK(torch::equal(v, b.at(k)));
    if (k.rfind("backbone.", 0) == 0 && !torch::equal(v, initial.at(k))) backbone_moved = true;
  }
  CHECK(backbone_moved);  // mode "full" trains the backbone too
  fs::remove_all(root);
}
