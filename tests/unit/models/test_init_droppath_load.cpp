#include <catch2/catch.hpp>

#include <cmath>

#include "models/segmenter.hpp"
#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

using namespace clcp;

namespace {
SegmenterOptions small_options() {
  SegmenterOptions o;
  o.depth = 2;
  o.backbone_drop_path_rate = 0.3;
  o.head_drop_path_rate = 0.1;
  return o;
}
bool same_state(const torch::nn::Module& a, const torch::nn::Module& b) {
  const auto sa = state_dict(a), sb = state_dict(b);
  for (const auto& [k, v] : sa)
    if (!torch::equal(v, sb.at(k))) return false;
  return true;
}
}  // namespace

TEST_CASE("init_weights with the same seed gives bit-identical parameters and a different seed does not") {
  Segmenter a(small_options()), b(small_options()), c(small_options());
  a->init_weights(11);
  b->init_weights(11);
  c->init_weights(12);
  CHECK(same_state(*a, *b));
  CHECK_FALSE(torch::equal(a->backbone->pos_embed, c->backbone->pos_embed));
  CHECK_FALSE(torch::equal(a->decode_head->cls_emb, c->decode_head->cls_emb));
}

TEST_CASE("init_weights follows timm for the backbone and mmseg for the head") {
  Segmenter m;
  m->init_weights(3);
  const auto sd = state_dict(*m);
  auto std_of = [&](const std::string& k) { return sd.at(k).std().item<double>(); };
  auto absmax = [&](const std::string& k) { return sd.at(k).abs().max().item<double>(); };
  // trunc_normal(std .02): 75k / 442k / 589k draws → sample std within 1% of 0.02.
  CHECK(std_of("backbone.pos_embed") == Approx(0.02).epsilon(0.01));
  CHECK(std_of("backbone.blocks.3.attn.qkv.weight") == Approx(0.02).epsilon(0.01));
  CHECK(std_of("decode_head.layers.1.ffn.layers.0.0.weight") == Approx(0.02).epsilon(0.01));
  CHECK(std_of("decode_head.patch_proj.weight") == Approx(0.02).epsilon(0.01));
  CHECK(std_of("decode_head.cls_emb") == Approx(0.02).epsilon(0.03));
  // cls_token normal(std 1e-6).
  CHECK(absmax("backbone.cls_token") < 1e-5);
  CHECK(absmax("backbone.cls_token") > 0.0);
  // patch_embed: PyTorch default Conv2d, U(±1/√768).
  const double bound = 1.0 / std::sqrt(768.0);
  CHECK(absmax("backbone.patch_embed.proj.weight") <= bound);
  CHECK(absmax("backbone.patch_embed.proj.weight") > 0.99 * bound);
  CHECK(absmax("backbone.patch_embed.proj.bias") <= bound);
  // in_proj_weight [1152,384]: xavier_uniform bound √(6/(384+1152)) = 0.0625.
  CHECK(absmax("decode_head.layers.0.attn.attn.in_proj_weight") <= 0.0625);
  CHECK(absmax("decode_head.layers.0.attn.attn.in_proj_weight") > 0.0624);
  for (const auto& k : {"backbone.blocks.0.attn.qkv.bias", "backbone.blocks.5.mlp.fc1.bias", "backbone.norm.bias",
                        "decode_head.dec_proj.bias", "decode_head.layers.0.attn.attn.in_proj_bias",
                        "decode_head.layers.1.attn.attn.out_proj.bias", "decode_head.mask_norm.bias"})
    CHECK(absmax(k) == 0.0);
  CHECK(torch::equal(sd.at("backbone.blocks.7.norm2.weight"), torch::ones({384})));
  CHECK(torch::equal(sd.at("decode_head.mask_norm.weight"), torch::ones({19})));
}

TEST_CASE("drop-path with the same key repeats its masks, and eval mode applies none") {
  torch::NoGradGuard g;
  Segmenter m(small_options());
  m->init_weights(1);
  const auto x = torch::randn({4, 3, 224, 224}, torch::TensorOptions().dtype(torch::kFloat32));
  m->eval();
  const auto eval1 = m->forward(x);
  m->train();
  m->set_drop_path_key(5, 100);
  const auto t1 = m->forward(x);
  const auto t2 = m->forward(x);
  m->set_drop_path_key(5, 100);
  CHECK(torch::equal(t1, t2));
  m->set_drop_path_key(5, 101);
  const auto t3 = m->forward(x);
  CHECK_FALSE(torch::equal(t1, t3));
  // Kept samples are rescaled by 1/keep, so a training forward never equals the eval forward when rate > 0.
  CHECK_FALSE(torch::allclose(t1, eval1));
  m->eval();
  CHECK(torch::equal(m->forward(x), eval1));
}

TEST_CASE("drop_path zeroes or rescales whole samples by 1/keep and needs a key in training") {
  const auto x = torch::ones({64, 3, 5});
  const auto y = drop_path(x, 0.25, true, DropPathKey{9, 2}, 7);
  int kept = 0;
  for (int64_t b = 0; b < 64; ++b) {
    const auto s = y[b];
    const bool dropped = torch::equal(s, torch::zeros({3, 5}));
    const bool scaled = torch::allclose(s, torch::full({3, 5}, 1.0 / 0.75));
    REQUIRE((dropped || scaled));
    kept += scaled;
  }
  CHECK(kept > 32);  // Bernoulli(0.75) over 64 samples
  CHECK(kept < 64);
  CHECK(torch::equal(y, drop_path(x, 0.25, true, DropPathKey{9, 2}, 7)));
  CHECK_FALSE(torch::equal(y, drop_path(x, 0.25, true, DropPathKey{9, 2}, 8)));
  CHECK(torch::equal(drop_path(x, 0.25, false, std::nullopt, 7), x));
  CHECK(torch::equal(drop_path(x, 0.0, true, std::nullopt, 7), x));
  CHECK_THROWS_AS(drop_path(x, 0.25, true, std::nullopt, 7), UserError);
}

TEST_CASE("load_state_dict reports missing, unexpected, mis-shaped and non-finite tensors") {
  MaskTransformerHead head;
  auto sd = state_dict(*head);
  std::map<std::string, torch::Tensor> file;
  for (const auto& [k, v] : sd) file[k] = torch::full_like(v, 0.5);
  file.erase("dec_proj.bias");
  file["conv_seg.weight"] = torch::zeros({19, 384, 1, 1});  // v0.x leftover
  file["mask_norm.weight"] = torch::zeros({150});
  file["decoder_norm.bias"] = torch::full({384}, std::nan(""));
  const auto before = head->decoder_norm->bias.clone();

  CHECK_THROWS_WITH(load_state_dict(*head, file, true), Catch::Contains("1 missing (dec_proj.bias)") &&
                                                              Catch::Contains("1 unexpected (conv_seg.weight)"));
  CHECK(head->cls_emb.abs().max().item<float>() != 0.5f);  // a strict failure copies nothing

  const auto report = load_state_dict(*head, file, false);
  CHECK(report.missing == std::vector<std::string>{"dec_proj.bias"});
  CHECK(report.unexpected == std::vector<std::string>{"conv_seg.weight"});
  CHECK(report.shape_mismatch == std::vector<std::string>{"mask_norm.weight: file [150] vs model [19]"});
  CHECK(report.non_finite == std::vector<std::string>{"decoder_norm.bias"});
  CHECK_FALSE(report.ok());
  CHECK(torch::equal(head->cls_emb, torch::full({1, 19, 384}, 0.5)));
  CHECK(torch::equal(head->decoder_norm->bias, before));
  CHECK(head->layers->ptr<MaskHeadLayerImpl>(1)->attn->attn->in_proj_weight.requires_grad());

  file.erase("conv_seg.weight");
  file["dec_proj.bias"] = torch::zeros({384}, torch::kFloat64);  // dtype is converted
  file["mask_norm.weight"] = torch::ones({19});
  file["decoder_norm.bias"] = torch::zeros({384});
  CHECK(load_state_dict(*head, file, true).ok());
}
