#include "models/lidar/minkunet.hpp"

#include "models/state_dict.hpp"
#include "suite/core/error.hpp"

namespace clcp::lidar {

namespace {

torch::nn::BatchNorm1d make_bn(int64_t c, const MinkUNetOptions& o) {
  return torch::nn::BatchNorm1d(torch::nn::BatchNormOptions(c).eps(o.bn_eps).momentum(o.bn_momentum));
}

SparseTensor relu(const SparseTensor& x) { return x.with_feats(torch::relu(x.feats)); }
SparseTensor bn(torch::nn::BatchNorm1d& m, const SparseTensor& x) { return x.with_feats(m->forward(x.feats)); }

// A child container registered under `name` (mmdet3d's nn.Sequential / nn.ModuleList levels, named "0", "1", …).
std::shared_ptr<torch::nn::Module> container(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

}  // namespace

SparseConvBlockImpl::SparseConvBlockImpl(const SparseConvOptions& c, const MinkUNetOptions& o) {
  auto net = container(*this, "net");
  conv = net->register_module("0", SparseConv3d(c));
  bn = net->register_module("1", make_bn(c.out_channels, o));
}

SparseTensor SparseConvBlockImpl::forward(const SparseTensor& x) { return relu(lidar::bn(bn, conv->forward(x))); }

SparseBasicBlockImpl::SparseBasicBlockImpl(int64_t cin, int64_t cout, const MinkUNetOptions& o) {
  auto net = container(*this, "net");
  conv1 = net->register_module("0", SparseConv3d(SparseConvOptions{cin, cout, 3, 1, false}));
  bn1 = net->register_module("1", make_bn(cout, o));
  conv2 = net->register_module("3", SparseConv3d(SparseConvOptions{cout, cout, 3, 1, false}));
  bn2 = net->register_module("4", make_bn(cout, o));
  if (cin != cout) {
    auto ds = container(*this, "downsample");
    skip_conv = ds->register_module("0", SparseConv3d(SparseConvOptions{cin, cout, 1, 1, false}));
    skip_bn = ds->register_module("1", make_bn(cout, o));
  }
}

SparseTensor SparseBasicBlockImpl::forward(const SparseTensor& x) {
  const auto h = lidar::bn(bn2, conv2->forward(relu(lidar::bn(bn1, conv1->forward(x)))));
  const auto skip = skip_conv ? lidar::bn(skip_bn, skip_conv->forward(x)) : x;
  return h.with_feats(torch::relu(h.feats + skip.feats));
}

MinkUNetImpl::MinkUNetImpl(const MinkUNetOptions& o) : options_(o) {
  const int64_t base = o.base_channels;
  auto in = container(*this, "conv_input");
  conv_input.push_back(in->register_module("0", SparseConvBlock(SparseConvOptions{o.in_channels, base, 3, 1}, o)));
  conv_input.push_back(in->register_module("1", SparseConvBlock(SparseConvOptions{base, base, 3, 1}, o)));

  auto enc = container(*this, "encoder");
  int64_t c = base;
  for (int i = 0; i < 4; ++i) {
    auto stage = container(*enc, std::to_string(i));
    encoder_down.push_back(stage->register_module("0", SparseConvBlock(SparseConvOptions{c, c, 2, 2}, o)));
    encoder_blocks.emplace_back();
    for (int64_t j = 0; j < o.encoder_blocks[i]; ++j) {
      const int64_t cout = o.encoder_channels[i];
      encoder_blocks.back().push_back(
          stage->register_module(std::to_string(j + 1), SparseBasicBlock(j == 0 ? c : cout, cout, o)));
    }
    c = o.encoder_channels[i];
  }

  auto dec = container(*this, "decoder");
  for (int i = 0; i < 4; ++i) {
    auto stage = container(*dec, std::to_string(i));
    const int64_t cout = o.decoder_channels[i];
    decoder_up.push_back(
        stage->register_module("0", SparseConvBlock(SparseConvOptions{c, cout, 2, 2, /*transposed=*/true}, o)));
    const int64_t lateral = i < 3 ? o.encoder_channels[2 - i] : base;
    auto blocks = container(*stage, "1");
    decoder_blocks.emplace_back();
    for (int64_t j = 0; j < o.decoder_blocks[i]; ++j)
      decoder_blocks.back().push_back(
          blocks->register_module(std::to_string(j), SparseBasicBlock(j == 0 ? cout + lateral : cout, cout, o)));
    c = cout;
  }
}

torch::Tensor MinkUNetImpl::forward(const SparseTensor& input) {
  if (input.stride != 1 || input.feats.size(1) != options_.in_channels)
    fail("MinkUNet: expected voxel features [N, {}] at stride 1, got [{}, {}] at stride {}", options_.in_channels,
         input.feats.size(0), input.feats.size(1), input.stride);
  SparseTensor x = input;
  for (auto& m : conv_input) x = m->forward(x);
  std::vector<SparseTensor> laterals{x};
  for (size_t i = 0; i < encoder_down.size(); ++i) {
    x = encoder_down[i]->forward(x);
    for (auto& b : encoder_blocks[i]) x = b->forward(x);
    laterals.push_back(x);
  }
  laterals.pop_back();  // the bottleneck is not a lateral
  for (size_t i = 0; i < decoder_up.size(); ++i) {
    x = cat_feats(decoder_up[i]->forward(x), laterals[laterals.size() - 1 - i]);
    for (auto& b : decoder_blocks[i]) x = b->forward(x);
  }
  return x.feats;
}

void MinkUNetImpl::init_weights(uint64_t seed) {
  torch::NoGradGuard ng;
  for (auto& item : named_modules("", /*include_self=*/false)) {
    if (auto* conv = item.value()->as<SparseConv3dImpl>()) conv->reset_parameters(seed, item.key() + ".kernel");
    if (auto* b = item.value()->as<torch::nn::BatchNorm1dImpl>()) {
      b->weight.fill_(1);
      b->bias.zero_();
      b->running_mean.zero_();
      b->running_var.fill_(1);
      b->num_batches_tracked.zero_();
    }
  }
}

int64_t parameter_count(const MinkUNetImpl& model) {
  int64_t n = 0;
  for (const auto& p : model.parameters()) n += p.numel();
  return n;
}

}  // namespace clcp::lidar
