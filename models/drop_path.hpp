// Stochastic depth ("drop path") with keyed randomness (DESIGN.md "Determinism").
// Semantics as timm `drop_path` (timm/layers/drop.py) and mmcv `DropPath`: in training, each sample of the batch
// keeps its residual branch with probability keep = 1 - rate, kept samples are scaled by 1/keep; in eval, or with
// rate 0, the branch passes unchanged. The per-sample Bernoulli draws come from
// clcp::Stream(key.seed, "drop_path", key.step, layer), so the masks depend only on (seed, step, layer) — never on
// thread timing or on how many draws other components made.
#pragma once
#include <torch/torch.h>

#include <cstdint>
#include <optional>

namespace clcp {

/// The (seed, step) a training forward draws its drop-path masks from. Unset → a training forward with a non-zero
/// rate throws UserError (call set_drop_path_key first), so no step silently reuses another step's masks.
struct DropPathKey {
  uint64_t seed = 0;
  uint64_t step = 0;
};

/// Layer ids used as the Stream `sample` index (unique over the whole Segmenter):
/// backbone block i: attention branch 2i, MLP branch 2i+1; head layer j: 1000 + j.
constexpr uint64_t kHeadDropPathLayerBase = 1000;

/// x: [B, ...] any float dtype/device. Returns x * mask / keep with mask [B,1,...] ∈ {0,1}; x itself when
/// !training or rate == 0. Throws UserError when training with rate > 0 and no key is set.
torch::Tensor drop_path(const torch::Tensor& x, double rate, bool training, const std::optional<DropPathKey>& key,
                        uint64_t layer);

}  // namespace clcp
