// One optimiser step of each method equals PyTorch's on a tiny model (issue 16): the method's trainable head on fixed
// inputs, its own loss (CLCP: info_nce with the thesis's exp(t) temperature; SimCLR: nt_xent; supervised:
// segmentation_loss) and LibTorch's AdamW with the parameter groups the method declares, against
// tests/parity/method_step_oracle.py — the thesis's InfoNCE in PyTorch, lightly 1.6.0's NTXentLoss, torch's
// cross_entropy and torch.optim.AdamW on the same weights and inputs (build/lightly-venv; skipped visibly without
// it). The ViT and MinkUNet are left out: their parity with timm and spconv is tested in the models stage.
#include <catch2/catch.hpp>

#include <cstdlib>

#include "models/clcp/info_nce.hpp"
#include "models/clcp/projection_head.hpp"
#include "models/safetensors.hpp"
#include "suite/pretrain/methods/simclr/nt_xent.hpp"
#include "suite/pretrain/methods/simclr/simclr_model.hpp"
#include "suite/pretrain/methods/supervised/supervised_model.hpp"
#include "support/python_oracle.hpp"
#include "support/test_paths.hpp"

using namespace clcp;
namespace fs = std::filesystem;
namespace F = torch::nn::functional;

namespace {

// Within 16 float32 ulps of the tensor's largest magnitude (the two implementations order their float ops
// differently). Tight enough to see a wrong weight decay: its first-step effect is lr * wd * |w| (≥ 1e-5 |w| here).
void ms_check_close(const torch::Tensor& ours, const torch::Tensor& theirs, const std::string& name) {
  const double scale = theirs.abs().max().item<double>();
  const double diff = (ours.to(torch::kFloat64) - theirs.to(torch::kFloat64)).abs().max().item<double>();
  INFO(name << ": max |ours - PyTorch| " << diff << " (scale " << scale << ")");
  CHECK(diff <= 16 * std::numeric_limits<float>::epsilon() * scale);
}

}  // namespace

TEST_CASE("one optimiser step of CLCP's lidar head and temperature, SimCLR's projector and the supervised head equals "
          "PyTorch's on the same weights",
          "[methods]") {
  const std::string python = std::string(CLCP_SOURCE_DIR) + "/build/lightly-venv/bin/python";
  if (!fs::exists(python)) {
    WARN("SKIPPED: no build/lightly-venv (ci/setup.sh installs it from ci/lightly-requirements.txt)");
    return;
  }
  torch::manual_seed(11);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(11);
  std::map<std::string, torch::Tensor> in;

  // SimCLR: the method's projector (SimclrModel(8, 4)) on fixed 384-d CLS features of 2 x 4 views
  SimclrModel simclr(8, 4);
  for (auto& p : simclr->projector->named_parameters()) {
    torch::NoGradGuard ng;
    p.value().copy_(torch::randn(p.value().sizes(), gen) * 0.1);
  }
  for (const auto& kv : simclr->projector->named_parameters()) in["simclr." + kv.key()] = kv.value().detach().clone();
  for (const auto& kv : simclr->projector->named_buffers()) in["simclr." + kv.key()] = kv.value().detach().clone();
  in["views_a"] = torch::randn({4, 384}, gen);
  in["views_b"] = in["views_a"] + 0.3 * torch::randn({4, 384}, gen);

  // CLCP: the lidar tower's linear head (96 -> 384) and the temperature t, image CLS embeddings fixed
  ProjectionOptions po;
  po.type = "linear";
  ProjectionHead lidar_head(po);
  {
    torch::NoGradGuard ng;
    lidar_head->weight.copy_(torch::randn({384, 96}, gen) * 0.1);
    lidar_head->bias.copy_(torch::randn({384}, gen) * 0.1);
  }
  auto t = torch::full({}, 0.07, torch::kFloat32).requires_grad_(true);
  in["clcp.weight"] = lidar_head->weight.detach().clone();
  in["clcp.bias"] = lidar_head->bias.detach().clone();
  in["clcp.t"] = t.detach().clone();
  in["clcp_image"] = torch::randn({4, 384}, gen);
  in["clcp_lidar"] = torch::randn({4, 96}, gen);

  // supervised: the head on the patch tokens of a 2 x 2 grid, logits upsampled to 8 x 8, labels with ignored pixels
  torch::nn::Linear head(384, 19);
  {
    torch::NoGradGuard ng;
    head->weight.copy_(torch::randn({19, 384}, gen) * 0.02);
    head->bias.copy_(torch::randn({19}, gen) * 0.1);
  }
  in["head.weight"] = head->weight.detach().clone();
  in["head.bias"] = head->bias.detach().clone();
  in["tokens"] = torch::randn({2, 4, 384}, gen);
  auto labels = torch::randint(0, 19, {2, 8, 8}, gen, torch::kInt64);
  labels.index_put_({0, torch::indexing::Slice(0, 3)}, 255);
  in["labels"] = labels;

  test::TempDir dir;
  save_safetensors(dir.path / "in.safetensors", in, {});
  const int rc = std::system(("'" + python + "' '" + CLCP_SOURCE_DIR + "/tests/parity/method_step_oracle.py' '" +
                              dir.path.string() + "' > '" + (dir.path / "log.txt").string() + "' 2>&1")
                                 .c_str());
  const std::string log = test::read_log(dir.path);
  if (WIFEXITED(rc) && WEXITSTATUS(rc) == 3) {
    WARN("SKIPPED: lightly does not load: " << log);
    return;
  }
  INFO(log);
  REQUIRE(rc == 0);
  const auto out = load_safetensors(dir.path / "out.safetensors");

  {  // CLCP: clcp_a2d2's one AdamW group (weight decay on the head and on t, the thesis's inv_exp form)
    std::vector<torch::Tensor> params = lidar_head->parameters();
    params.push_back(t);
    torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-3).betas({0.9, 0.98}).eps(1e-8).weight_decay(0.01));
    const auto loss = info_nce(in["clcp_image"], lidar_head->forward(in["clcp_lidar"]), logit_scale(t, "inv_exp"));
    opt.zero_grad();
    loss.backward();
    opt.step();
    ms_check_close(loss.detach().reshape({1}), out.at("clcp_loss"), "CLCP loss");
    ms_check_close(lidar_head->weight.detach(), out.at("clcp.weight"), "clcp.weight");
    ms_check_close(lidar_head->bias.detach(), out.at("clcp.bias"), "clcp.bias");
    ms_check_close(t.detach().reshape({1}), out.at("clcp.t").reshape({1}), "clcp.t");
  }
  {  // SimCLR: both views in one forward (BatchNorm over the 2N views), NT-Xent tau 0.5, AdamW on every parameter
    simclr->train();
    std::vector<torch::Tensor> params;
    for (auto& p : simclr->projector->parameters()) params.push_back(p);
    torch::optim::AdamW opt(params, torch::optim::AdamWOptions(1e-3).betas({0.9, 0.98}).eps(1e-8).weight_decay(0.01));
    const auto z = simclr->projector->forward(torch::cat({in["views_a"], in["views_b"]}));
    const auto loss = nt_xent(z.narrow(0, 0, 4), z.narrow(0, 4, 4), 0.5);
    opt.zero_grad();
    loss.backward();
    opt.step();
    ms_check_close(loss.detach().reshape({1}), out.at("simclr_loss"), "SimCLR loss");
    for (const auto& kv : simclr->projector->named_parameters())
      ms_check_close(kv.value().detach(), out.at("simclr." + kv.key()), "simclr." + kv.key());
    for (const auto& kv : simclr->projector->named_buffers())
      if (kv.value().is_floating_point())
        ms_check_close(kv.value().detach(), out.at("simclr." + kv.key()), "simclr." + kv.key());
  }
  {  // supervised: weight with weight decay 0.05, bias without (the method's timm rule), lr 2.5e-4
    std::vector<torch::optim::OptimizerParamGroup> groups;
    groups.emplace_back(std::vector<torch::Tensor>{head->weight},
                        std::make_unique<torch::optim::AdamWOptions>(
                            torch::optim::AdamWOptions(2.5e-4).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.05)));
    groups.emplace_back(std::vector<torch::Tensor>{head->bias},
                        std::make_unique<torch::optim::AdamWOptions>(
                            torch::optim::AdamWOptions(2.5e-4).betas({0.9, 0.999}).eps(1e-8).weight_decay(0.0)));
    torch::optim::AdamW opt(std::move(groups));
    const auto tokens = in["tokens"];
    auto logits = head->forward(tokens).transpose(1, 2).reshape({2, 19, 2, 2});
    logits = F::interpolate(logits, F::InterpolateFuncOptions()
                                        .size(std::vector<int64_t>{8, 8})
                                        .mode(torch::kBilinear)
                                        .align_corners(false));
    const auto loss = segmentation_loss(logits, labels);
    opt.zero_grad();
    loss.backward();
    opt.step();
    ms_check_close(loss.detach().reshape({1}), out.at("supervised_loss"), "supervised loss");
    ms_check_close(head->weight.detach(), out.at("head.weight"), "head.weight");
    ms_check_close(head->bias.detach(), out.at("head.bias"), "head.bias");
  }
}
