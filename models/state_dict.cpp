#include "models/state_dict.hpp"

#include <fmt/format.h>

#include "suite/core/error.hpp"

namespace clcp {

std::string shape_str(const torch::Tensor& t) { return fmt::format("[{}]", fmt::join(t.sizes().vec(), ",")); }

namespace {

std::string first_few(const std::string& what, const std::vector<std::string>& v) {
  constexpr size_t kShow = 3;
  std::string s = fmt::format("{} {}", v.size(), what);
  for (size_t i = 0; i < v.size() && i < kShow; ++i) s += (i ? ", " : " (") + v[i];
  if (v.size() > kShow) s += ", …";
  return s + ")";
}
}  // namespace

std::map<std::string, torch::Tensor> state_dict(const torch::nn::Module& module) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : module.named_parameters(true)) out.emplace(item.key(), item.value());
  for (const auto& item : module.named_buffers(true)) out.emplace(item.key(), item.value());
  return out;
}

std::string LoadReport::summary() const {
  if (ok()) return "all tensors loaded";
  std::vector<std::string> parts;
  if (!missing.empty()) parts.push_back(first_few("missing", missing));
  if (!unexpected.empty()) parts.push_back(first_few("unexpected", unexpected));
  if (!shape_mismatch.empty()) parts.push_back(first_few("shape mismatches", shape_mismatch));
  if (!non_finite.empty()) parts.push_back(first_few("non-finite", non_finite));
  return fmt::format("{}", fmt::join(parts, "; "));
}

LoadReport load_state_dict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors,
                           bool strict) {
  auto model = state_dict(module);
  LoadReport report;
  std::vector<std::pair<torch::Tensor, torch::Tensor>> copies;
  for (const auto& [key, dst] : model)
    if (!tensors.count(key)) report.missing.push_back(key);
  for (const auto& [key, src] : tensors) {
    const auto it = model.find(key);
    if (it == model.end()) {
      report.unexpected.push_back(key);
      continue;
    }
    if (src.sizes() != it->second.sizes()) {
      report.shape_mismatch.push_back(fmt::format("{}: file {} vs model {}", key, shape_str(src), shape_str(it->second)));
      continue;
    }
    if (src.is_floating_point() && !torch::isfinite(src).all().item<bool>()) {
      report.non_finite.push_back(key);
      continue;
    }
    copies.emplace_back(it->second, src);
  }
  if (strict && !report.ok())
    fail("state dict does not match the model: {}; convert the checkpoint's keys or use a matching init",
         report.summary());
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(src);
  return report;
}

}  // namespace clcp
