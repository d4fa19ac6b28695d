// Reads the CLCP pretraining settings of an init from its name (and optional metadata), so the report can lay out
// the thesis's Table 4.3 (checkpoint epoch × projection head × lidar frozen in pretraining × augmentation;
// clcp_reference.md §4). Names follow the thesis's labels: tokens separated by '-', '_', '.', '+' or '@' after a
// leading "clcp" (case-insensitive), e.g. "clcp@ep19", "clcp-b256-mlp-fb-aug@ep35", "file:/w/clcp_lin_ep67.safetensors":
//   ep<N> | epoch<N>  → pretraining checkpoint epoch N        lin | linear | mlp → projection head
//   fb | lidarfrozen  → lidar encoder frozen in pretraining   unfrozen         → not frozen
//   aug               → §1.3 augmentations                    noaug            → none
//   b<N>              → pretraining batch size
//   shuf              → the shuffled-pairs negative control: not a Table 4.3 row (nullopt; it stays in Table 4.1 and
//                       the paired comparison)
// As in the thesis's row labels, an absent fb/aug means "no". Metadata (spec.json "init_metadata", e.g. from a
// weights registry: {"clcp_epoch", "head", "lidar_frozen", "augment", "batch"}) overrides the name.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

namespace clcp {

struct ClcpInit {
  std::optional<int64_t> epoch, batch;
  std::string head;  ///< "lin" | "mlp" | "" (not named)
  bool lidar_frozen = false, augment = false;
  /// The thesis's row label: "Ep19 (Lin, fb)", "Ep35 (MLP, aug)", "Ep67 (MLP)"; "clcp" parts that are unknown are left out.
  std::string label() const;
};

/// The init's display name: "file:" prefix, folders and a weights extension (.safetensors, .pth, .pt) removed.
std::string init_display_name(const std::string& init);

/// The CLCP settings of `init`, or nullopt when it is not a CLCP init (display name not starting with "clcp" and no
/// "clcp_epoch" in `metadata`).
std::optional<ClcpInit> parse_clcp_init(const std::string& init, const nlohmann::json& metadata = nullptr);

}  // namespace clcp
