#include "suite/pretrain/methods/siamese/siamese_model.hpp"

#include "models/init.hpp"
#include "suite/core/error.hpp"

namespace clcp::siamese {
namespace nn = torch::nn;

namespace {
nn::Linear linear(int64_t in, int64_t out, bool bias) { return nn::Linear(nn::LinearOptions(in, out).bias(bias)); }

// Keyed PyTorch-default init of every Linear of a Sequential, BatchNorm affine 1 / 0.
void init_sequential(nn::Sequential& s, uint64_t seed, const std::string& name) {
  torch::NoGradGuard ng;
  for (size_t i = 0; i < s->size(); ++i) {
    if (auto* l = s[i]->as<nn::Linear>()) {
      init::torch_default_(l->weight, l->options.bias() ? l->bias : torch::Tensor(), seed,
                           name + "." + std::to_string(i));
    } else if (auto* bn = s[i]->as<nn::BatchNorm1d>()) {
      if (bn->options.affine()) {
        bn->weight.fill_(1);
        bn->bias.zero_();
      }
    }
  }
}
}  // namespace

SiameseBranchImpl::SiameseBranchImpl(BranchOptions o) : options_(std::move(o)) {
  if (options_.projector_hidden < 1 || options_.out < 1 || options_.predictor_hidden < 0)
    fail("siamese: projector hidden {} / out {} must be >= 1 and predictor hidden {} >= 0", options_.projector_hidden,
         options_.out, options_.predictor_hidden);
  encoder = register_module("encoder", VisionTransformer(options_.encoder));
  const int64_t c = options_.encoder.embed_dim, h = options_.projector_hidden, out = options_.out;
  if (options_.projector == "simsiam") {
    projector = nn::Sequential(linear(c, h, false), nn::BatchNorm1d(h), nn::ReLU(), linear(h, h, false),
                               nn::BatchNorm1d(h), nn::ReLU(), linear(h, out, false),
                               nn::BatchNorm1d(nn::BatchNormOptions(out).affine(false)));
  } else if (options_.projector == "byol") {
    projector = nn::Sequential(linear(c, h, false), nn::BatchNorm1d(h), nn::ReLU(), linear(h, out, true));
  } else {
    fail("siamese: projector \"{}\": expected \"simsiam\" or \"byol\"", options_.projector);
  }
  register_module("projector", projector);
  if (options_.predictor_hidden > 0) {
    const int64_t q = options_.predictor_hidden;
    predictor = register_module(
        "predictor", nn::Sequential(linear(out, q, false), nn::BatchNorm1d(q), nn::ReLU(), linear(q, out, true)));
  }
}

BranchOutput SiameseBranchImpl::forward(const torch::Tensor& images) {
  BranchOutput o;
  o.z = projector->forward(encoder->forward_features(images).select(1, 0));
  if (predictor) o.p = predictor->forward(o.z);
  return o;
}

void SiameseBranchImpl::init_weights(uint64_t seed, const std::string& name) {
  encoder->init_weights(seed);
  init_sequential(projector, seed, name + ".projector");
  if (predictor) init_sequential(predictor, seed, name + ".predictor");
}

}  // namespace clcp::siamese
