#include "models/clcp/projection_head.hpp"

#include "models/init.hpp"
#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"

namespace clcp {

ProjectionHeadImpl::ProjectionHeadImpl(const ProjectionOptions& o) : options_(o) {
  if (o.type == "linear") {
    weight = register_parameter("weight", torch::zeros({o.out_features, o.in_features}));
    bias = register_parameter("bias", torch::zeros({o.out_features}));
  } else if (o.type == "mlp") {
    fc1 = register_module("0", torch::nn::Linear(o.in_features, o.hidden));
    fc2 = register_module("2", torch::nn::Linear(o.hidden, o.out_features));
    norm = register_module("4", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.out_features}).eps(o.ln_eps)));
  } else {
    fail("projection head \"{}\": expected \"linear\" or \"mlp\" (clcp_reference.md §1.6)", o.type);
  }
}

torch::Tensor ProjectionHeadImpl::forward(const torch::Tensor& x) {
  if (options_.type == "linear") return torch::linear(x, weight, bias);
  auto h = fc2->forward(torch::gelu(fc1->forward(x)));
  if (is_training() && options_.dropout > 0) {
    if (!key_)
      fail("projection head ({}): training forward with dropout {} but no dropout key; call set_dropout_key(seed, "
           "step) before each training step", options_.tag, options_.dropout);
    auto gen = at::make_generator<at::CPUGeneratorImpl>(
        Stream(key_->seed, "projection_dropout/" + options_.tag, key_->step).next_u64());
    const double keep = 1.0 - options_.dropout;
    const auto mask = torch::empty(h.sizes(), torch::kFloat).bernoulli_(keep, gen).div_(keep);
    h = h * mask.to(h.device(), h.scalar_type());
  }
  return norm->forward(h);
}

void ProjectionHeadImpl::init_weights(uint64_t seed, const std::string& name) {
  torch::NoGradGuard ng;
  if (options_.type == "linear") {
    init::torch_default_(weight, bias, seed, name);
    return;
  }
  init::torch_default_(fc1->weight, fc1->bias, seed, name + ".0");
  init::torch_default_(fc2->weight, fc2->bias, seed, name + ".2");
  norm->weight.fill_(1);
  norm->bias.zero_();
}

}  // namespace clcp
