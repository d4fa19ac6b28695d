#include "suite/pretrain/methods/supervised/supervised_model.hpp"

#include "models/init.hpp"
#include "suite/core/error.hpp"

namespace clcp {

namespace F = torch::nn::functional;

SupervisedModelImpl::SupervisedModelImpl(int64_t image_size, int64_t classes) {
  if (classes < 2) fail("supervised: {} classes; a classifier needs at least 2", classes);
  VitOptions o;
  o.img_size = image_size;
  encoder = register_module("encoder", VisionTransformer(o));
  head = register_module("head", torch::nn::Linear(o.embed_dim, classes));
}

torch::Tensor SupervisedModelImpl::forward(const torch::Tensor& images) {
  const int64_t n = images.size(0), h = images.size(2), w = images.size(3);
  const auto& o = encoder->options();
  const int64_t gh = h / o.patch_size, gw = w / o.patch_size;
  const auto tokens = encoder->forward_features(images).narrow(1, 1, gh * gw);  // CLS dropped
  const auto logits = head->forward(tokens).transpose(1, 2).reshape({n, -1, gh, gw});
  return F::interpolate(logits, F::InterpolateFuncOptions()
                                    .size(std::vector<int64_t>{h, w})
                                    .mode(torch::kBilinear)
                                    .align_corners(false));
}

void SupervisedModelImpl::init_weights(uint64_t seed) {
  encoder->init_weights(seed);
  torch::NoGradGuard ng;
  init::trunc_normal_(head->weight, 0.02, seed, "head");
  head->bias.zero_();
}

torch::Tensor segmentation_loss(const torch::Tensor& logits, const torch::Tensor& labels) {
  const auto valid = labels != 255;
  if (!valid.any().item<bool>()) return logits.sum() * 0.0;
  return F::cross_entropy(logits, labels, F::CrossEntropyFuncOptions().ignore_index(255));
}

torch::Tensor confusion_counts(const torch::Tensor& logits, const torch::Tensor& labels) {
  const int64_t c = logits.size(1);
  const auto pred = logits.argmax(1).reshape({-1}).to(torch::kInt64);
  const auto gt = labels.reshape({-1}).to(torch::kInt64);
  const auto valid = gt != 255;
  return torch::bincount(gt.masked_select(valid) * c + pred.masked_select(valid), {}, c * c).reshape({c, c}).to(torch::kInt64);
}

}  // namespace clcp
