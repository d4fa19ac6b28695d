#include "models/drop_path.hpp"

#include "suite/core/error.hpp"
#include "suite/core/rng.hpp"

namespace clcp {

torch::Tensor drop_path(const torch::Tensor& x, double rate, bool training, const std::optional<DropPathKey>& key,
                        uint64_t layer) {
  if (!training || rate <= 0.0) return x;
  if (!key) fail("drop_path layer {}: training forward with rate {} but no drop-path key; call set_drop_path_key"
                 "(seed, step) before each training step", layer, rate);
  const double keep = 1.0 - rate;
  const int64_t batch = x.size(0);
  Stream stream(key->seed, "drop_path", key->step, layer);
  std::vector<float> mask(static_cast<size_t>(batch));
  // keep == 0 drops everything without scaling (timm: only divides when keep_prob > 0).
  for (auto& m : mask) m = stream.bernoulli(keep) ? static_cast<float>(keep > 0.0 ? 1.0 / keep : 0.0) : 0.0f;
  std::vector<int64_t> shape(static_cast<size_t>(x.dim()), 1);
  shape[0] = batch;
  auto t = torch::from_blob(mask.data(), {batch}, torch::kFloat32).clone().view(shape);
  return x * t.to(x.device(), x.scalar_type());
}

}  // namespace clcp
