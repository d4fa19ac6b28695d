// The CLCP pretraining model: InfoNCE computed by hand for both temperature forms, the clip clamp, the loss floor,
// the towers' shapes and the thesis's Lightning parameter names.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/clcp/clcp_model.hpp"
#include "models/clcp/info_nce.hpp"
#include "models/state_dict.hpp"
#include "support/python_oracle.hpp"

using namespace clcp;

namespace {
// −log softmax(row)[label]
double ce(std::vector<double> row, size_t label) {
  double z = 0;
  for (double v : row) z += std::exp(v);
  return std::log(z) - row[label];
}
}  // namespace

TEST_CASE("InfoNCE equals the hand-computed symmetric cross-entropy for both temperature forms", "[clcp]") {
  // image 0 = (1, 0), image 1 = (0, 3) (normalised inside to (0, 1)); lidar 0 = (2, 0) → (1, 0), lidar 1 = (1, 1) → (r, r)
  const auto zi = torch::tensor({1.0, 0.0, 0.0, 3.0}, torch::kDouble).view({2, 2});
  const auto zl = torch::tensor({2.0, 0.0, 1.0, 1.0}, torch::kDouble).view({2, 2});
  const double r = 1.0 / std::sqrt(2.0);
  for (const std::string form : {"inv_exp", "clip"}) {
    const double param = form == "inv_exp" ? 0.07 : std::log(1.0 / 0.07);
    const double s = form == "inv_exp" ? std::exp(-0.07) : 1.0 / 0.07;  // 0.93239 | 14.2857
    const auto p = torch::tensor(param, torch::kDouble);
    CHECK(logit_scale(p, form).item<double>() == Approx(s).epsilon(1e-14));
    CHECK(effective_tau(p, form) == Approx(1 / s).epsilon(1e-14));
    // cos matrix [[1, r], [0, r]]
    const double rows = 0.5 * (ce({s, s * r}, 0) + ce({0, s * r}, 1));
    const double cols = 0.5 * (ce({s, 0}, 0) + ce({s * r, s * r}, 1));
    const double want = 0.5 * (rows + cols);
    INFO(form << ": scale " << s << ", expected loss " << want);
    CHECK(info_nce(zi, zl, logit_scale(p, form)).item<double>() == Approx(want).epsilon(1e-13));
  }
  // Perfectly aligned pairs with every negative at cosine −1 reach the floor ln(1 + (B−1)e^(−2σ)).
  const auto a = torch::tensor({1.0, 0.0, -1.0, 0.0}, torch::kDouble).view({2, 2});
  const auto sc = torch::tensor(3.0, torch::kDouble);
  CHECK(info_nce(a, a, sc).item<double>() == Approx(info_nce_floor(3.0, 2)).epsilon(1e-13));
  CHECK(info_nce_floor(std::exp(-0.07), 256) == Approx(3.7015).margin(1e-4));  // "about 3.70", pretraining_anchors §1.2
  CHECK_THAT(test::error_of([&] { info_nce(zi, zl.narrow(0, 0, 1), sc); }), Catch::Contains("must both be [B, D]"));
}

TEST_CASE("the clip form clamps its logit scale to at most 100 and inv_exp is never clamped", "[clcp]") {
  auto s = torch::tensor(5.3);
  clamp_temperature(s, "clip");
  CHECK(s.item<float>() == Approx(std::log(100.0)).epsilon(1e-6));
  auto neg = torch::tensor(-0.4);
  clamp_temperature(neg, "clip");
  CHECK(neg.item<float>() == 0.0f);
  auto t = torch::tensor(-0.4);
  clamp_temperature(t, "inv_exp");
  CHECK(t.item<float>() == Approx(-0.4));
}

TEST_CASE("the CLCP model has the thesis's Lightning names and both towers embed to [B, 384]", "[slow][clcp]") {
  for (const std::string head : {"linear", "mlp"}) {
    ClcpModel m(ClcpModelOptions{head});
    m->init_weights(0);
    const auto sd = state_dict(*m);
    CHECK(sd.count("image_encoder.model.cls_token") == 1);
    CHECK(sd.count("image_encoder.model.blocks.11.mlp.fc2.weight") == 1);
    CHECK(sd.at("image_encoder.projection.weight").sizes().vec() == std::vector<int64_t>{384, 384});
    CHECK(sd.count("point_cloud_encoder.model.backbone.decoder.3.1.1.net.4.running_var") == 1);
    CHECK(sd.at("temperature").dim() == 0);
    CHECK(sd.at("temperature").item<float>() == Approx(0.07f));
    if (head == "linear") {
      CHECK(sd.at("point_cloud_encoder.projection.weight").sizes().vec() == std::vector<int64_t>{384, 96});
    } else {
      CHECK(sd.at("point_cloud_encoder.projection.0.weight").sizes().vec() == std::vector<int64_t>{192, 96});
      CHECK(sd.at("point_cloud_encoder.projection.2.weight").sizes().vec() == std::vector<int64_t>{384, 192});
      CHECK(sd.at("point_cloud_encoder.projection.4.weight").sizes().vec() == std::vector<int64_t>{384});
      CHECK(sd.count("point_cloud_encoder.projection.weight") == 0);
    }
    int64_t n_image = 0;
    for (const auto& [k, v] : sd)
      if (k.rfind("image_encoder.", 0) == 0) n_image += v.numel();
    CHECK(n_image == 21665664 + 384 * 384 + 384);  // ViT-S/16 + projection ("21.8 M", clcp_reference.md §4)
    m->eval();
    torch::NoGradGuard ng;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
    const auto zi = m->image_encoder->forward(torch::randn({2, 3, 224, 224}, gen));
    const std::vector<torch::Tensor> clouds{torch::randn({50, 4}, gen) * 3, torch::randn({80, 4}, gen) * 3};
    const auto zl = m->point_cloud_encoder->forward(clouds);
    CHECK(zi.sizes().vec() == std::vector<int64_t>{2, 384});
    CHECK(zl.sizes().vec() == std::vector<int64_t>{2, 384});
    // Pooling is the mean over voxels: one cloud alone gives its own row.
    const auto z1 = m->point_cloud_encoder->forward({clouds[1]});
    CHECK(torch::allclose(z1[0], zl[1], 1e-5, 1e-6));
  }
  ClcpModel clip(ClcpModelOptions{"linear", 384, "clip"});
  clip->init_weights(0);
  CHECK(state_dict(*clip).at("logit_scale").item<float>() == Approx(std::log(1 / 0.07)));
  CHECK_THAT(test::error_of([] { ClcpModel(ClcpModelOptions{"conv"}); }), Catch::Contains("expected \"linear\""));
}
