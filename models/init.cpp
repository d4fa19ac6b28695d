#include "models/init.hpp"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "suite/core/rng.hpp"

namespace clcp::init {

at::Generator generator(uint64_t seed, const std::string& name) {
  Stream stream(seed, "init:" + name);
  return at::make_generator<at::CPUGeneratorImpl>(stream.next_u64());
}

namespace {
void assign(torch::Tensor& t, const torch::Tensor& values) {
  torch::NoGradGuard no_grad;
  t.copy_(values);
}
int64_t fan_in(const torch::Tensor& w) { return w.dim() < 2 ? w.numel() : w.numel() / w.size(0); }
}  // namespace

void trunc_normal_(torch::Tensor t, double std, uint64_t seed, const std::string& name, double a, double b) {
  auto gen = generator(seed, name);
  auto v = torch::empty(t.sizes(), torch::kFloat32);
  v.normal_(0.0, std, gen);
  // Redraw the (astronomically rare at std 0.02) out-of-bounds values until all lie in [a, b].
  for (int tries = 0; tries < 100; ++tries) {
    auto out = (v < a) | (v > b);
    if (!out.any().item<bool>()) break;
    auto fresh = torch::empty(t.sizes(), torch::kFloat32).normal_(0.0, std, gen);
    v = torch::where(out, fresh, v);
  }
  assign(t, v.clamp(a, b));
}

void normal_(torch::Tensor t, double std, uint64_t seed, const std::string& name) {
  auto gen = generator(seed, name);
  assign(t, torch::empty(t.sizes(), torch::kFloat32).normal_(0.0, std, gen));
}

void uniform_(torch::Tensor t, double lo, double hi, uint64_t seed, const std::string& name) {
  auto gen = generator(seed, name);
  assign(t, torch::empty(t.sizes(), torch::kFloat32).uniform_(lo, hi, gen));
}

void xavier_uniform_(torch::Tensor t, uint64_t seed, const std::string& name) {
  const int64_t receptive = t.dim() > 2 ? t[0][0].numel() : 1;
  const double fi = static_cast<double>(t.size(1) * receptive), fo = static_cast<double>(t.size(0) * receptive);
  const double bound = std::sqrt(6.0 / (fi + fo));
  uniform_(t, -bound, bound, seed, name);
}

void torch_default_(torch::Tensor weight, torch::Tensor bias, uint64_t seed, const std::string& name) {
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in(weight)));
  uniform_(weight, -bound, bound, seed, name + ".weight");
  if (bias.defined()) uniform_(bias, -bound, bound, seed, name + ".bias");
}

}  // namespace clcp::init
