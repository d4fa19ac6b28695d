// Keyed weight initialisers. Each tensor gets its own torch generator seeded from
// clcp::Stream(seed, "init:" + name), so a parameter's initial values depend only on (seed, its full name) — not on
// the order in which modules are initialised or on thread count.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <string>

namespace clcp::init {

/// Generator for one named tensor: at::make_generator<CPUGeneratorImpl>(Stream(seed, "init:"+name).next_u64()).
at::Generator generator(uint64_t seed, const std::string& name);

/// Normal(0, std) truncated to the ABSOLUTE bounds [a, b] (timm and mmengine trunc_normal_ defaults a=-2, b=2, which
/// at std 0.02 is effectively untruncated). Drawn on CPU, then copied into `t` (any device/dtype).
void trunc_normal_(torch::Tensor t, double std, uint64_t seed, const std::string& name, double a = -2.0,
                   double b = 2.0);
/// Normal(0, std).
void normal_(torch::Tensor t, double std, uint64_t seed, const std::string& name);
/// Uniform(lo, hi).
void uniform_(torch::Tensor t, double lo, double hi, uint64_t seed, const std::string& name);
/// PyTorch's xavier_uniform_ (gain 1): U(±sqrt(6/(fan_in+fan_out))) for a [out, in, ...] weight.
void xavier_uniform_(torch::Tensor t, uint64_t seed, const std::string& name);
/// PyTorch's default Linear/Conv reset_parameters: weight kaiming_uniform(a=√5) = U(±1/√fan_in), and the bias (if
/// defined) U(±1/√fan_in).
void torch_default_(torch::Tensor weight, torch::Tensor bias, uint64_t seed, const std::string& name);

}  // namespace clcp::init
