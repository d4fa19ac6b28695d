// The CLCP pretraining part of a report: every pretraining bundle the report is given, or that a finetune bundle's
// chained init (init_sha256 "chained:<protocol>/<id>@epNN", suite/cli/chain.hpp) points to, read from its
// pretrain_log.jsonl (deterministic fields only): per epoch lr, train and val InfoNCE with the chance level ln B,
// the effective temperature and the loss floor it implies, and Recall@1 in both directions with its chance level —
// the curves of the thesis's Figs 4.4–4.7 plus the diagnostics it did not have.
#pragma once
#include <filesystem>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace clcp {

struct PretrainEpoch {
  int64_t epoch = 0;
  double lr = 0, train_loss = 0, val_loss = 0, chance_loss = 0, tau = 0, loss_floor = 0;
  double r1_image_to_lidar = 0, r1_lidar_to_image = 0, r1_chance = 0;
  int64_t gallery = 0;
  /// Another method's own diagnostic (its epoch record's "diagnostic": {"name", "value", "chance"}), e.g. SimCLR's
  /// positive-pair accuracy; empty name for CLCP.
  std::string diagnostic;
  double diagnostic_value = 0, diagnostic_chance = 0;
  /// The collapse monitor where the method logs it (SimCLR, the Siamese family): the per-dimension std of the
  /// normalised val projections and its spread value 1/√d; NaN when absent.
  double z_std = std::numeric_limits<double>::quiet_NaN(), z_std_uniform = std::numeric_limits<double>::quiet_NaN();
};

struct PretrainRun {
  std::string method = "clcp";  ///< the pretraining method; PretrainEpoch's τ, floor and R@1 are CLCP's only
  std::string cell_id, variant, protocol, scale, fingerprint, state;
  std::string bundle_dir, provenance, command;  ///< command: provenance "rerun"
  std::vector<PretrainEpoch> epochs;
  std::vector<std::string> exports;             ///< encoder names (clcp-<variant>@epNN) the bundle exports
  std::vector<std::string> used_by;             ///< finetune inits of this report that are its encoders
};

/// Reads a pretraining bundle (spec.json "kind": "pretrain"). Throws UserError naming the file when it is unreadable.
PretrainRun read_pretrain_run(const std::filesystem::path& dir);

/// The pretraining bundle a finetune spec's chained init points to (results root = the finetune bundle's grand-
/// parent), or "" when the spec has no chained init.
std::filesystem::path chained_pretrain_bundle(const std::filesystem::path& finetune_bundle, const nlohmann::json& spec);

}  // namespace clcp
