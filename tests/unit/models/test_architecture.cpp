#include <catch2/catch.hpp>

#include "models/segmenter.hpp"
#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

using namespace clcp;

namespace {
int64_t count_params(const std::map<std::string, torch::Tensor>& sd) {
  int64_t n = 0;
  for (const auto& [k, v] : sd) n += v.numel();
  return n;
}
std::vector<int64_t> shape_of(const std::map<std::string, torch::Tensor>& sd, const std::string& key) {
  REQUIRE(sd.count(key) == 1);
  return sd.at(key).sizes().vec();
}
}  // namespace

TEST_CASE("the ViT-S/16 backbone maps [2,3,224,224] to 197 tokens of 384 channels") {
  torch::NoGradGuard g;
  VisionTransformer vit;
  vit->eval();
  const auto y = vit->forward_features(torch::randn({2, 3, 224, 224}));
  CHECK(y.sizes().vec() == std::vector<int64_t>{2, 197, 384});
}

TEST_CASE("the backbone rejects inputs that are not 224x224 with a user error") {
  torch::NoGradGuard g;
  VisionTransformer vit;
  CHECK_THROWS_AS(vit->forward_features(torch::zeros({1, 3, 240, 224})), UserError);
}

TEST_CASE("the backbone has timm's 150 tensor names and 21,665,664 parameters") {
  const auto sd = state_dict(*VisionTransformer());
  CHECK(sd.size() == 150);
  // 12 blocks × 1,774,464 + patch embed 295,296 + cls 384 + pos 197·384 + final norm 768
  CHECK(count_params(sd) == 21665664);
  CHECK(shape_of(sd, "cls_token") == std::vector<int64_t>{1, 1, 384});
  CHECK(shape_of(sd, "pos_embed") == std::vector<int64_t>{1, 197, 384});
  CHECK(shape_of(sd, "patch_embed.proj.weight") == std::vector<int64_t>{384, 3, 16, 16});
  CHECK(shape_of(sd, "patch_embed.proj.bias") == std::vector<int64_t>{384});
  for (int i = 0; i < 12; ++i) {
    const auto b = "blocks." + std::to_string(i) + ".";
    CHECK(shape_of(sd, b + "norm1.weight") == std::vector<int64_t>{384});
    CHECK(shape_of(sd, b + "norm1.bias") == std::vector<int64_t>{384});
    CHECK(shape_of(sd, b + "attn.qkv.weight") == std::vector<int64_t>{1152, 384});
    CHECK(shape_of(sd, b + "attn.qkv.bias") == std::vector<int64_t>{1152});
    CHECK(shape_of(sd, b + "attn.proj.weight") == std::vector<int64_t>{384, 384});
    CHECK(shape_of(sd, b + "attn.proj.bias") == std::vector<int64_t>{384});
    CHECK(shape_of(sd, b + "norm2.weight") == std::vector<int64_t>{384});
    CHECK(shape_of(sd, b + "mlp.fc1.weight") == std::vector<int64_t>{1536, 384});
    CHECK(shape_of(sd, b + "mlp.fc1.bias") == std::vector<int64_t>{1536});
    CHECK(shape_of(sd, b + "mlp.fc2.weight") == std::vector<int64_t>{384, 1536});
    CHECK(shape_of(sd, b + "mlp.fc2.bias") == std::vector<int64_t>{384});
  }
  CHECK(shape_of(sd, "norm.weight") == std::vector<int64_t>{384});
  CHECK(shape_of(sd, "norm.bias") == std::vector<int64_t>{384});
}

TEST_CASE("the mask head maps [2,384,14,14] to 19 logit maps of 14x14") {
  torch::NoGradGuard g;
  MaskTransformerHead head;
  head->eval();
  CHECK(head->forward(torch::randn({2, 384, 14, 14})).sizes().vec() == std::vector<int64_t>{2, 19, 14, 14});
}

TEST_CASE("the mask head has mmseg's key names and 3,999,782 parameters for 19 classes") {
  const auto sd = state_dict(*MaskTransformerHead());
  // 2 layers × 1,774,464 + dec_proj 147,840 + cls_emb 7,296 + 2 × 147,456 (no-bias projections)
  // + decoder_norm 768 + mask_norm 38 (mmseg_reference.md §1.3)
  CHECK(count_params(sd) == 3999782);
  CHECK(sd.size() == 2 * 12 + 2 + 1 + 2 + 2 + 2);
  for (int i = 0; i < 2; ++i) {
    const auto l = "layers." + std::to_string(i) + ".";
    CHECK(shape_of(sd, l + "ln1.weight") == std::vector<int64_t>{384});
    CHECK(shape_of(sd, l + "ln1.bias") == std::vector<int64_t>{384});
    CHECK(shape_of(sd, l + "attn.attn.in_proj_weight") == std::vector<int64_t>{1152, 384});
    CHECK(shape_of(sd, l + "attn.attn.in_proj_bias") == std::vector<int64_t>{1152});
    CHECK(shape_of(sd, l + "attn.attn.out_proj.weight") == std::vector<int64_t>{384, 384});
    CHECK(shape_of(sd, l + "attn.attn.out_proj.bias") == std::vector<int64_t>{384});
    CHECK(shape_of(sd, l + "ln2.weight") == std::vector<int64_t>{384});
    CHECK(shape_of(sd, l + "ln2.bias") == std::vector<int64_t>{384});
    CHECK(shape_of(sd, l + "ffn.layers.0.0.weight") == std::vector<int64_t>{1536, 384});
    CHECK(shape_of(sd, l + "ffn.layers.0.0.bias") == std::vector<int64_t>{1536});
    CHECK(shape_of(sd, l + "ffn.layers.1.weight") == std::vector<int64_t>{384, 1536});
    CHECK(shape_of(sd, l + "ffn.layers.1.bias") == std::vector<int64_t>{384});
  }
  CHECK(shape_of(sd, "dec_proj.weight") == std::vector<int64_t>{384, 384});
  CHECK(shape_of(sd, "dec_proj.bias") == std::vector<int64_t>{384});
  CHECK(shape_of(sd, "cls_emb") == std::vector<int64_t>{1, 19, 384});
  CHECK(shape_of(sd, "patch_proj.weight") == std::vector<int64_t>{384, 384});
  CHECK(shape_of(sd, "classes_proj.weight") == std::vector<int64_t>{384, 384});
  CHECK(sd.count("patch_proj.bias") == 0);
  CHECK(sd.count("classes_proj.bias") == 0);
  CHECK(shape_of(sd, "decoder_norm.weight") == std::vector<int64_t>{384});
  CHECK(shape_of(sd, "mask_norm.weight") == std::vector<int64_t>{19});
  CHECK(shape_of(sd, "mask_norm.bias") == std::vector<int64_t>{19});
}

TEST_CASE("the segmenter maps [2,3,224,224] images to [2,19,14,14] logits under backbone. and decode_head. keys") {
  Segmenter model;
  model->eval();
  {
    torch::NoGradGuard g;
    CHECK(model->forward(torch::randn({2, 3, 224, 224})).sizes().vec() == std::vector<int64_t>{2, 19, 14, 14});
  }
  const auto sd = state_dict(*model);
  CHECK(sd.size() == 150 + 33);
  CHECK(count_params(sd) == 21665664 + 3999782);
  CHECK(sd.count("backbone.blocks.11.mlp.fc2.bias") == 1);
  CHECK(sd.count("decode_head.layers.1.attn.attn.in_proj_weight") == 1);
  int64_t nb = 0, nh = 0;
  for (const auto& p : model->backbone_parameters()) nb += p.numel();
  for (const auto& p : model->head_parameters()) nh += p.numel();
  CHECK(nb == 21665664);
  CHECK(nh == 3999782);
  model->freeze_backbone();
  for (const auto& p : model->backbone_parameters()) REQUIRE_FALSE(p.requires_grad());
  for (const auto& p : model->head_parameters()) REQUIRE(p.requires_grad());
}
