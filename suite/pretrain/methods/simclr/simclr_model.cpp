#include "suite/pretrain/methods/simclr/simclr_model.hpp"

#include "models/init.hpp"
#include "suite/core/error.hpp"

namespace clcp {

SimclrModelImpl::SimclrModelImpl(int64_t hidden, int64_t out) {
  if (hidden < 1 || out < 1) fail("simclr: projector widths hidden {} and out {} must be >= 1", hidden, out);
  encoder = register_module("encoder", VisionTransformer(VitOptions{}));
  const int64_t width = encoder->options().embed_dim;
  projector = register_module(
      "projector",
      torch::nn::Sequential(torch::nn::Linear(torch::nn::LinearOptions(width, hidden).bias(false)),
                            torch::nn::BatchNorm1d(hidden), torch::nn::ReLU(),
                            torch::nn::Linear(torch::nn::LinearOptions(hidden, out))));
}

torch::Tensor SimclrModelImpl::forward(const torch::Tensor& images) {
  return projector->forward(encoder->forward_features(images).select(1, 0));
}

void SimclrModelImpl::init_weights(uint64_t seed) {
  encoder->init_weights(seed);
  torch::NoGradGuard ng;
  auto& fc1 = *projector[0]->as<torch::nn::Linear>();
  auto& bn = *projector[1]->as<torch::nn::BatchNorm1d>();
  auto& fc2 = *projector[3]->as<torch::nn::Linear>();
  init::torch_default_(fc1.weight, torch::Tensor(), seed, "projector.0");
  bn.weight.fill_(1);
  bn.bias.zero_();
  init::torch_default_(fc2.weight, fc2.bias, seed, "projector.3");
}

}  // namespace clcp
