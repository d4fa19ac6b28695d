// MinkUNet34-W32: mmdet3d's state-dict names and shapes (sparse_conv_reference.md §2.4), its parameter count, the
// whole network against the dense conv3d emulation (§3.5), and determinism.
#include <catch2/catch.hpp>

#include <regex>

#include "dense_sparse_oracle.hpp"
#include "models/lidar/minkunet.hpp"
#include "models/lidar/voxelize.hpp"
#include "models/state_dict.hpp"

using namespace clcp;
using namespace clcp::lidar;

namespace {

// Random occupied voxels shaped like a lidar scene: a ground plane, two walls and a box, on a 32³ grid.
torch::Tensor scene_coords(int64_t batch, uint64_t seed) {
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  std::vector<torch::Tensor> all;
  for (int64_t b = 0; b < batch; ++b) {
    auto occ = torch::zeros({32, 32, 32}, torch::kBool);
    occ.select(2, 1 + b).fill_(true);                    // ground z = 1 + b
    occ.select(1, 3).narrow(0, 4, 20).narrow(1, 2, 16).fill_(true);   // wall y = 3
    occ.select(0, 27).narrow(0, 5, 22).narrow(1, 1, 25).fill_(true);  // wall x = 27
    occ.narrow(0, 10, 5).narrow(1, 12, 6).narrow(2, 2, 4).fill_(true);  // box
    const auto keep = torch::rand({32, 32, 32}, gen).lt(0.6);             // lidar-like holes
    const auto idx = occ.logical_and(keep).nonzero();
    all.push_back(torch::cat({idx, torch::full({idx.size(0), 1}, b, torch::kLong)}, 1));
  }
  return torch::cat(all);
}

void randomise_bn(MinkUNetImpl& net, uint64_t seed) {
  torch::NoGradGuard ng;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& m : net.modules(false))
    if (auto* bn = m->as<torch::nn::BatchNorm1dImpl>()) {
      bn->weight.copy_(torch::rand(bn->weight.sizes(), gen) + 0.5);
      bn->bias.copy_(torch::randn(bn->bias.sizes(), gen) * 0.1);
      bn->running_mean.copy_(torch::randn(bn->running_mean.sizes(), gen) * 0.1);
      bn->running_var.copy_(torch::rand(bn->running_var.sizes(), gen) + 0.5);
    }
}

}  // namespace

TEST_CASE("MinkUNet34-W32 has mmdet3d's 378 backbone tensors with the shapes of the checkpoint", "[lidar]") {
  MinkUNet net;
  const auto sd = state_dict(*net);
  CHECK(sd.size() == 378);  // 380 in the checkpoint minus decode_head.conv_seg.{weight,bias}
  CHECK(parameter_count(*net) == 37873280);
  auto shape = [&](const std::string& k) { return sd.at(k).sizes().vec(); };
  using V = std::vector<int64_t>;
  CHECK(shape("conv_input.0.net.0.kernel") == V{27, 4, 32});
  CHECK(shape("conv_input.1.net.0.kernel") == V{27, 32, 32});
  CHECK(shape("encoder.0.0.net.0.kernel") == V{8, 32, 32});
  CHECK(shape("encoder.3.0.net.0.kernel") == V{8, 128, 128});
  CHECK(shape("encoder.1.1.downsample.0.kernel") == V{32, 64});
  CHECK(shape("encoder.3.1.downsample.0.kernel") == V{128, 256});
  CHECK(shape("encoder.3.6.net.3.kernel") == V{27, 256, 256});
  CHECK(sd.count("encoder.0.1.downsample.0.kernel") == 0);
  CHECK(shape("decoder.0.0.net.0.kernel") == V{8, 256, 256});
  CHECK(shape("decoder.3.0.net.0.kernel") == V{8, 96, 96});
  CHECK(shape("decoder.0.1.0.net.0.kernel") == V{27, 384, 256});
  CHECK(shape("decoder.1.1.0.downsample.0.kernel") == V{192, 128});
  CHECK(shape("decoder.3.1.0.net.0.kernel") == V{27, 128, 96});
  CHECK(shape("decoder.3.1.1.net.3.kernel") == V{27, 96, 96});
  CHECK(shape("decoder.3.1.1.net.4.running_var") == V{96});
  CHECK(sd.at("encoder.2.4.net.1.num_batches_tracked").dim() == 0);
  int64_t kernels = 0, bns = 0;
  for (const auto& [k, v] : sd) {
    kernels += std::regex_search(k, std::regex(R"(\.kernel$)"));
    bns += std::regex_search(k, std::regex(R"(\.running_mean$)"));
  }
  CHECK(kernels == 63);
  CHECK(bns == 63);
}

TEST_CASE("the whole MinkUNet34-W32 equals its dense conv3d emulation on a 32-voxel grid", "[slow][lidar]") {
  for (const auto dtype : {torch::kDouble, torch::kFloat}) {
    MinkUNet net;
    net->init_weights(7);
    randomise_bn(*net, 8);
    net->to(dtype);
    net->eval();
    const auto coords = scene_coords(2, 3);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
    const auto feats = torch::randn({coords.size(0), 4}, gen).to(dtype);
    torch::NoGradGuard ng;
    const auto sparse = net->forward(SparseTensor::from_voxels(feats, coords));
    REQUIRE(sparse.sizes().vec() == std::vector<int64_t>{coords.size(0), 96});
    std::map<int64_t, torch::Tensor> masks{{1, test::occupancy(coords, 1, 32, 2, dtype)}};
    for (int64_t s = 2; s <= 16; s *= 2) masks[s] = torch::max_pool3d(masks[s / 2], 2, 2);
    const auto dense = test::dense_minkunet(*net, test::to_dense(feats, coords, 1, 32, 2), masks);
    const auto want = test::gather_dense(dense, coords, 1);
    const double rel = (sparse - want).abs().max().item<double>() / want.abs().max().item<double>();
    INFO(c10::toString(dtype) << ": " << coords.size(0) << " voxels, max relative difference " << rel);
    CHECK(rel < (dtype == torch::kDouble ? 1e-11 : 1e-4));
    CHECK(want.abs().max().item<double>() > 0.1);  // a non-trivial output
  }
}

TEST_CASE("MinkUNet forwards are bit-identical run to run and train-mode BatchNorm moves its statistics",
          "[slow][lidar]") {
  MinkUNet net;
  net->init_weights(1);
  const auto coords = scene_coords(2, 9);
  auto gen = at::make_generator<at::CPUGeneratorImpl>(2);
  const auto feats = torch::randn({coords.size(0), 4}, gen);
  torch::Tensor a, b;
  {
    torch::NoGradGuard ng;
    net->eval();
    a = net->forward(SparseTensor::from_voxels(feats, coords));
    b = net->forward(SparseTensor::from_voxels(feats, coords));
  }
  CHECK(torch::equal(a, b));
  net->train();
  const auto before = net->conv_input[0]->bn->running_mean.clone();
  net->forward(SparseTensor::from_voxels(feats, coords)).sum().backward();
  CHECK_FALSE(torch::equal(before, net->conv_input[0]->bn->running_mean));
  CHECK(net->conv_input[0]->bn->num_batches_tracked.item<int64_t>() == 1);
  CHECK(net->decoder_blocks[3][1]->conv2->kernel.grad().abs().sum().item<double>() > 0);
}
