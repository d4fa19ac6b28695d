// State-dict access for torch::nn modules with PyTorch's dotted names, and a checked load that reports every
// mismatch instead of silently leaving weights random (the failure mode of mmseg#1288, mmseg_reference.md §2.1).
#pragma once
#include <torch/torch.h>

#include <map>
#include <string>
#include <vector>

namespace clcp {

/// "[a,b,c]": a tensor's shape for error lines and reports.
std::string shape_str(const torch::Tensor& t);

/// Parameters and buffers by full dotted name ("backbone.blocks.0.attn.qkv.weight"). The tensors alias the module's.
std::map<std::string, torch::Tensor> state_dict(const torch::nn::Module& module);

struct LoadReport {
  std::vector<std::string> missing;         // in the model, not in the file (left unchanged)
  std::vector<std::string> unexpected;      // in the file, not in the model (ignored)
  std::vector<std::string> shape_mismatch;  // "key: file [a,b] vs model [c,d]" (not copied)
  std::vector<std::string> non_finite;      // file tensors holding NaN/Inf (not copied)
  bool ok() const { return missing.empty() && unexpected.empty() && shape_mismatch.empty() && non_finite.empty(); }
  /// One line: counts and the first few names of each problem kind, or "all N tensors loaded".
  std::string summary() const;
};

/// Copies every file tensor whose key and shape match (dtype converted to the model's, device kept) under
/// NoGradGuard and reports the rest. strict and !ok() → throws UserError with summary() before copying anything.
LoadReport load_state_dict(torch::nn::Module& module, const std::map<std::string, torch::Tensor>& tensors,
                           bool strict);

}  // namespace clcp
