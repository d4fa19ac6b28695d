// The model of a cell: its init resolved and checked (registry, sha256), the Segmenter built, weights imported and
// preflighted before any training starts.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "models/import/checkpoint_reader.hpp"
#include "models/import/import_weights.hpp"
#include "models/import/registry.hpp"
#include "models/safetensors.hpp"
#include "models/state_dict.hpp"
#include "suite/cells/run.hpp"
#include "suite/core/error.hpp"
#include "suite/core/hash.hpp"

namespace clcp::cells {

std::string init_sha256(const std::string& init) {
  // Registry names, file:PATH and plain paths resolve to a local file (models/import/registry.hpp); nothing is
  // downloaded. A registry sha256 that is known must match.
  const ResolvedInit r = resolve_init(init, default_weights_lookup());
  if (r.random) return "";
  check_weights_format(r.path);  // a PNG, JSON or empty file is named as such before any data is read
  const std::string sha = sha256_file(r.path);
  if (r.entry && r.entry->sha256 && *r.entry->sha256 != sha)
    fail("--init {}: {} has sha256 {}, the registry expects {}; it is not the published file ({})", init,
         r.path.string(), sha, *r.entry->sha256, r.entry->obtain);
  return sha;
}

Segmenter build_model(const Protocol& p, const std::string& init, int64_t seed, torch::Device device) {
  SegmenterOptions so;
  so.num_classes = p.num_classes;
  so.img_size = p.img_size;
  so.backbone_drop_path_rate = p.backbone_drop_path_rate;
  so.head_drop_path_rate = p.head_drop_path_rate;
  Segmenter model(so);
  model->init_weights(static_cast<uint64_t>(seed));
  const ResolvedInit resolved = resolve_init(init, default_weights_lookup());
  if (!resolved.random) {
    // Preflight: read, map the file's layout onto timm names, check every key/shape/value by group, then copy.
    const auto w = import_vit_weights(resolved.path, p.img_size / 16);
    load_vit_checked(*model->backbone, w.mapped, resolved.path.string());
    spdlog::info("weights: {} — {} backbone tensors from {} ({}, {} layout{}{})", init, w.mapped.tensors.size(),
                 resolved.path.string(), w.file.container, w.mapped.layout,
                 w.mapped.dropped.empty() ? "" : fmt::format(", {} keys dropped", w.mapped.dropped.size()),
                 w.mapped.notes.empty() ? "" : fmt::format("; {}", fmt::join(w.mapped.notes, "; ")));
  } else {
    spdlog::info("weights: random initialisation (timm/mmseg schemes) from seed {}", seed);
  }
  model->to(device);
  // Preflight: one forward with the protocol's input size must give [1, K, 14, 14] finite logits.
  {
    torch::NoGradGuard ng;
    model->eval();
    const auto logits = model->forward(torch::zeros({1, 3, p.img_size, p.img_size}, torch::TensorOptions(device)));
    const std::vector<int64_t> want{1, p.num_classes, p.img_size / 16, p.img_size / 16};
    if (logits.sizes().vec() != want || !torch::isfinite(logits).all().item<bool>())
      fail("--init {}: preflight forward gave logits {} (finite: {}), expected [1,{},{},{}]; the weights are unusable",
           init, fmt::format("{}", fmt::join(logits.sizes().vec(), ",")), torch::isfinite(logits).all().item<bool>(),
           p.num_classes, p.img_size / 16, p.img_size / 16);
    model->train();
  }
  return model;
}

}  // namespace clcp::cells
