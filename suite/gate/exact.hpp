// The exact tier of the regression gate (anchors.md §(2) item 7, tier 1): a fresh run of a small fixed grid (the ci
// scale of a protocol on the embedded data) against committed golden files. Where the kernel path is the baseline's
// (suite/results/kernel_path.hpp: same threads, LibTorch, CPU capability, vendor and ISA), every compared byte must be
// equal: metrics.json, the per-image evidence, and the deterministic fields of train_log.jsonl (iter, loss, lr,
// acc_seg). Where it is not, bit-identity is not expected: the gate says so and checks the baseline's stated
// tolerance on the logits-derived counts instead (mIoU within ± mIoU_points, every image's changed pixels within
// image_changed_fraction of its labelled pixels).
//
// A baseline is a folder, baselines/regression/<name>/:
//   baseline.json   {"schema": "clcp-bench/regression/1", "tier": "exact", "kind" ("finetune", the default, or
//                    "pretrain": suite/gate/pretrain_exact.hpp), "name", "protocol", "scale",
//                    "fingerprint" (protocol fingerprint), "grid": {"inits", "finetune_modes", "seeds"},
//                    "fixture": {"synth": SynthOptions as in SYNTH.json, with "a2d2": A2D2SynthOptions (absent:
//                    the generator's defaults)}, "tolerance": {"mIoU_points", "image_changed_fraction", "why"} (a
//                    pretrain baseline: {"relative", "encoder_relative", "retrieval_queries", "why"}), "provenance": {"git_commit", "git_dirty", "build_type",
//                    "compiler", "libtorch_version", "cpu", "kernel_path", "date"}, "cells": [cell ids]}
//   <cell id>/      spec.json, metrics.json and evidence/*.jsonl as the bundle has them; train_log.jsonl with only
//                   the deterministic fields
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace clcp::gate {

inline constexpr const char* kRegressionSchema = "clcp-bench/regression/1";

struct ExactTolerance {
  double miou_points = 0.5;             ///< |Δ mIoU| in percentage points, source and every target aggregate
  double image_changed_fraction = 0.01; ///< per image: Σ_c |Δ pred_area_c| / 2 ≤ this × labelled pixels
  std::string why;                      ///< how the numbers were chosen (shown when the tolerance is used)
};

/// The tolerance of a pretraining baseline on another kernel path (pretrain_exact.hpp).
struct PretrainTolerance {
  double relative = 1e-3;    ///< |Δ| / |baseline| for losses, temperature, τ, gradient norms
  /// |Δ‖w‖| / ‖w‖ for each exported encoder tensor (JSON "encoder_relative"; absent → `relative`). Looser where a
  /// method's tiny-norm tensors (e.g. a final-norm bias a few AdamW steps from zero) amplify another kernel's rounding.
  double encoder_relative = 1e-3;
  int retrieval_queries = 1; ///< per Recall@K: at most this many val queries may change (|Δ R@K| · gallery);
                             ///< mean and median rank within this many ranks
  std::string why;
};

struct ExactBaseline {
  std::filesystem::path dir;
  std::string kind = "finetune";  ///< "finetune" (a protocol's finetune grid) or "pretrain" (a pretraining cell)
  std::string name, protocol, scale, fingerprint;
  nlohmann::json grid;        ///< {"inits", "finetune_modes", "seeds"}
  nlohmann::json fixture;     ///< {"synth": {...}}
  ExactTolerance tolerance;            ///< kind finetune
  PretrainTolerance pretrain_tolerance; ///< kind pretrain
  nlohmann::json provenance;  ///< as described above
  std::vector<std::string> cells;
};

/// Reads baselines/regression/<name>/baseline.json (`dir` is that folder). Throws UserError naming the file for a
/// missing folder, another tier or schema, or a missing key.
ExactBaseline read_exact_baseline(const std::filesystem::path& dir);

/// The differences of one cell, as lines for the user (empty when identical).
struct CellDiff {
  std::string cell_id;
  bool found = true;            ///< false: the fresh run has no bundle with this id
  bool identical = true;        ///< every compared byte equal
  bool within_tolerance = true; ///< the tolerance check (meaningful when the kernel path differs)
  size_t images_compared = 0;    ///< evidence lines compared, over all evidence files
  size_t log_lines_compared = 0; ///< train_log.jsonl lines compared
  size_t epochs_compared = 0;    ///< pretrain: pretrain_log.jsonl epochs compared
  size_t encoders_compared = 0;  ///< pretrain: exported encoders compared
  std::vector<std::string> lines;
};

struct ExactResult {
  std::string kernel_difference;  ///< "" = same kernel path as the baseline → exact comparison
  std::vector<CellDiff> cells;
  bool passed() const;            ///< same path: every cell identical; other path: every cell within tolerance
};

/// Compares the fresh bundles (folders; matched to the baseline's cells by cell id) with the baseline. A baseline
/// cell without a fresh bundle of the same id is explained from the specs (which of fingerprint, init sha256 and
/// dataset manifests moved). `max_images` bounds the changed images listed per evidence file (largest first).
/// Reads only spec.json, provenance.json, metrics.json, evidence/ and train_log.jsonl of each bundle.
ExactResult compare_exact(const ExactBaseline& baseline, const std::vector<std::filesystem::path>& fresh,
                          size_t max_images = 8);

/// Replaces the baseline folder's content with the given finished bundles (their spec, metrics, evidence, the
/// deterministic train log) and baseline.json from `meta` (provenance taken from the first bundle's
/// provenance.json, dated now). Returns the lines describing what changed against the previous baseline (from
/// compare_exact on the old files, "new baseline" when there was none).
std::vector<std::string> write_exact_baseline(const ExactBaseline& meta,
                                              const std::vector<std::filesystem::path>& bundles);

/// baseline.json for `meta` with these cell ids; provenance from `first_bundle`'s provenance.json, dated now.
nlohmann::json baseline_record(const ExactBaseline& meta, const std::vector<std::string>& cells,
                               const std::filesystem::path& first_bundle);

/// Replaces meta.dir by the folder `fresh` (written completely beforehand), so a failure never leaves half a
/// baseline.
void swap_in_baseline(const ExactBaseline& meta, const std::filesystem::path& fresh);

/// Checks that a bundle the gate reads is complete and readable: status "done", spec.json, metrics.json,
/// train_log.jsonl and both evidence files present. This is the one place the gate accepts a bundle: the
/// bundle-integrity record (issue 11) is verified here once it exists. Throws UserError naming the file.
void check_bundle_readable(const std::filesystem::path& dir);

}  // namespace clcp::gate
