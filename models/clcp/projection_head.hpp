// Projection heads of CLCP's two towers (clcp_reference.md §1.5–1.6), with the thesis's Lightning parameter names
// under the parent's `projection`:
//   linear   nn.Linear(in → out)                                      → projection.weight [out, in], projection.bias
//   mlp      Linear(in → hidden) → GELU → Linear(hidden → out) → Dropout(p) → LayerNorm(out)   (no residual)
//                                                                     → projection.0.*, projection.2.*, projection.4.*
// Dropout masks are keyed (DESIGN.md "Determinism"): set_dropout_key(seed, step) before each training forward; the
// mask of element j comes from a CPU generator seeded by clcp::Stream(seed, "projection_dropout/<tag>", step).
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <optional>
#include <string>

#include "models/drop_path.hpp"

namespace clcp {

struct ProjectionOptions {
  std::string type = "linear";  ///< "linear" | "mlp"
  int64_t in_features = 96, out_features = 384;
  int64_t hidden = 192;         ///< mlp only
  double dropout = 0.1;         ///< mlp only
  double ln_eps = 1e-5;         ///< mlp only (nn.LayerNorm default)
  std::string tag = "lidar";    ///< names the dropout stream
};

class ProjectionHeadImpl : public torch::nn::Module {
 public:
  /// Throws UserError for a type other than linear/mlp.
  explicit ProjectionHeadImpl(const ProjectionOptions& options);
  /// x [N, in] → [N, out]. A training forward of an mlp head with dropout > 0 needs a dropout key (UserError).
  torch::Tensor forward(const torch::Tensor& x);
  /// PyTorch defaults keyed by (seed, name): Linear weight and bias U(±1/√in), LayerNorm 1 / 0 (models/init.hpp).
  void init_weights(uint64_t seed, const std::string& name);
  void set_dropout_key(std::optional<DropPathKey> key) { key_ = key; }
  const ProjectionOptions& options() const { return options_; }

  torch::Tensor weight, bias;                      ///< linear
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};    ///< mlp: "0", "2"
  torch::nn::LayerNorm norm{nullptr};              ///< mlp: "4"

 private:
  ProjectionOptions options_;
  std::optional<DropPathKey> key_;
};
TORCH_MODULE(ProjectionHead);

}  // namespace clcp
