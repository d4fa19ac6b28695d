// Published baselines as data (baselines/<name>.json): every row of the CLCP thesis tables (Golombiewski 2024,
// Tables 4.1 and 4.3; clcp_reference.md §4), single runs without seeds. Numbers are in percent as printed in the
// thesis (mIoU 68.01, rPD 0.56). File schema "clcp-bench/baseline/1":
//   {"schema", "name", "source", "description", "units", "rows": [{"table", "row", "experiment", "init", "finetune_mode",
//     "miou_cityscapes", "miou_acdc", "rpd", "source", "notes": [..]}]}
// Keys are checked strictly: an unknown or missing key is a UserError naming the file and key.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace clcp::stats {

struct BaselineRow {
  std::string table;          ///< "4.1" | "4.3"
  int64_t row = 0;            ///< 1-based row number in the thesis table
  std::string experiment;     ///< as printed, e.g. "timm-ViT-S (fb)"
  std::string init;           ///< pretraining: "imagenet-timm", "liploc-kitti", "liploc-kitti360", "clcp-…"
  std::string finetune_mode;  ///< "full" | "frozen" (backbone frozen in finetuning)
  double miou_cityscapes = 0, miou_acdc = 0, rpd = 0;  ///< percent, percent, ratio (2 decimals as printed)
  std::string source;         ///< "Golombiewski 2024, Table 4.1"
  std::vector<std::string> notes;
};

struct Baseline {
  std::string name, source, description;
  std::vector<BaselineRow> rows;
  /// The row with this experiment name, or nullptr.
  const BaselineRow* find(const std::string& experiment) const;
};

/// Reads baselines/<name>.json ($CLCP_BASELINES_DIR if set, else <source>/baselines).
Baseline load_baseline(const std::string& name);
/// Reads a baseline file at `path` (same checks).
Baseline load_baseline_file(const std::filesystem::path& path);
/// Directory of the baseline files.
std::filesystem::path baselines_dir();

}  // namespace clcp::stats
