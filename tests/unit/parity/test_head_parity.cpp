// Mask-head parity: our SegmenterMaskTransformerHead (models/segmenter_head.hpp) against mmseg 1.2.2's own class
// (tests/parity/head_oracle.py) with the same weights and the same [2,384,14,14] features, in float32 and float64.
#include <catch2/catch.hpp>
#include <fmt/format.h>

#include "models/safetensors.hpp"
#include "models/segmenter.hpp"
#include "models/state_dict.hpp"
#include "oracle.hpp"
#include "suite/core/rng.hpp"

using namespace clcp;

TEST_CASE("our mask head gives mmseg SegmenterMaskTransformerHead's logits for the same weights", "[parity][head]") {
  CLCP_REQUIRE_ORACLE();
  Segmenter model;
  model->init_weights(0);
  model->eval();
  parity::TempDir dir("head");
  save_safetensors(dir.path / "weights.safetensors", state_dict(*model));
  // Features of the scale a trained ViT emits (unit variance per channel), drawn from a keyed stream.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(Stream(0, "head-parity", 0, 0).next_u64());
  const auto feats = at::randn({2, 384, 14, 14}, gen, torch::TensorOptions().dtype(torch::kFloat64));
  save_safetensors(dir.path / "feats.safetensors", {{"feats", feats}});
  if (!parity::run_oracle_checked("head_oracle.py", "'" + dir.path.string() + "'", dir.path)) return;
  const auto oracle = load_safetensors(dir.path / "out/oracle.safetensors");

  torch::NoGradGuard no_grad;
  const auto ours32 = model->decode_head->forward(feats.to(torch::kFloat32));
  REQUIRE(ours32.sizes() == oracle.at("logits32").sizes());
  const double d32 = (ours32 - oracle.at("logits32")).abs().max().item<double>();
  model->decode_head->to(torch::kFloat64);
  const double d64 = (model->decode_head->forward(feats) - oracle.at("logits64")).abs().max().item<double>();
  WARN(fmt::format("mask head vs mmseg 1.2.2 SegmenterMaskTransformerHead: max |logits diff| float32 {:.3e}, "
                   "float64 {:.3e} (|logits| ≤ {:.2f})",
                   d32, d64, oracle.at("logits32").abs().max().item<double>()));
  CHECK(d32 <= 1e-5);
  CHECK(d64 <= 1e-10);
}
