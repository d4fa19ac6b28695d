// The one data model every report format renders (as llama-bench: md/html/LaTeX/csv/json from one model). Built
// from result bundles and plan files only (spec.json, status.json, metrics.json, provenance.json, train_log.jsonl,
// evidence/, results/<protocol>/plan-*.json), never from live objects, so `clcp-bench report` on old bundles gives the
// same tables as the run that wrote them.
//
// Bundles are split by protocol fingerprint into Comparisons: numbers from different fingerprints never share a
// table (DESIGN.md "Protocols are data"). Inside a Comparison, runs are grouped by (init, finetune mode) — one row
// of the thesis's Table 4.1 — and each metric is mean ± sd over the finished seeds with n, plus the two-level
// bootstrap CI of the mean (suite/stats/aggregate.hpp). Every planned run is listed: done, failed (with its error
// line), running, or "not run" (in a plan file but without a bundle).
//
// Units: mIoU and IoU in percent (2 decimals in tables, as the thesis), rPD as a ratio. NaN means "no value".
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "suite/report/clcp_init.hpp"
#include "suite/report/panel.hpp"
#include "suite/report/pretrain_model.hpp"
#include "suite/stats/baselines.hpp"
#include "suite/stats/bootstrap.hpp"
#include "suite/stats/compare.hpp"
#include "suite/stats/rpd_rule.hpp"
#include "suite/stats/sensitivity.hpp"

namespace clcp {

/// mean ± sd over n finished seeds and the bootstrap CI [lo, hi] of the mean; NaN where undefined (sd for n < 2).
struct Stat {
  double mean = stats::kNaN, sd = stats::kNaN, lo = stats::kNaN, hi = stats::kNaN;
  int64_t n = 0;
};

/// One planned cell: a bundle, or a cell id from a plan file that has no bundle (state "not run").
struct RunRow {
  std::string cell_id, init, finetune_mode, fingerprint;
  int64_t seed = 0;
  std::string state;  ///< done | running | failed | interrupted | none (no status.json) | not run
  std::string error, stage;  ///< status.json error line and stage
  std::string unverified;    ///< done but failing verification (only with allow_unverified): the problem
  std::string bundle_dir, provenance, command;  ///< provenance: path of provenance.json; command: its "rerun" (this cell only), else its "command"
  double miou_source = stats::kNaN, miou_target = stats::kNaN, rpd = stats::kNaN;  ///< percent, percent, ratio
  double best_constant_source = stats::kNaN;  ///< metrics.json source.best_constant_class_mIoU (fraction)
  std::map<std::string, double> miou_conditions;                                    ///< percent
  std::vector<double> iou_source, iou_target;  ///< per class (19), percent, NaN for classes absent everywhere
  std::vector<double> iter, loss, lr;          ///< train_log.jsonl curves (deterministic fields only)
};

/// One (init × finetune mode) row of Table 4.1.
struct GroupRow {
  std::string experiment;  ///< thesis style: "imagenet", "imagenet (fb)"
  std::string init, finetune_mode;
  std::optional<ClcpInit> clcp;  ///< set for CLCP inits (Table 4.3 rows)
  Stat miou_source, miou_target, rpd;
  std::map<std::string, Stat> miou_conditions;   ///< per ACDC condition
  std::vector<Stat> iou_source, iou_target;      ///< per class, mean ± sd (no CI)
  std::vector<size_t> runs;                      ///< indices into Comparison::runs, by seed
  int64_t runs_done = 0;
  std::optional<stats::BaselineRow> baseline;    ///< the published row matched to this group
  std::string note;                              ///< e.g. why a CI is missing
  /// The rPD rule (suite/stats/rpd_rule.hpp) on the mean source mIoU; when false the tables show rpd_note, not rPD.
  bool rpd_meaningful = false;
  std::string rpd_note;
};

/// One group against the section's reference group of the same finetune mode (suite/report/paired.hpp), paired by
/// seed and image as `clcp-bench compare` (suite/stats/compare.hpp): Δ = this group − the reference, with the
/// percentile bootstrap CI and the verdict (better: CI above 0, worse: below, else inconclusive).
struct PairedRow {
  std::string experiment, reference;            ///< GroupRow::experiment of each side
  int64_t seeds = 0;                            ///< paired seeds
  stats::Delta miou_source, miou_target, rpd;   ///< mIoU as fractions 0..1, rPD as a ratio
  std::string note;                             ///< why there is no Δ (e.g. no seed on both sides); else ""
};

/// Everything that shares one protocol fingerprint.
struct Comparison {
  std::string fingerprint, protocol, scale;
  std::vector<std::string> conditions;  ///< ACDC conditions, e.g. fog, night, rain, snow
  std::vector<RunRow> runs;             ///< every planned run, by (init, mode, seed)
  std::vector<GroupRow> groups;         ///< by init, then full before frozen
  std::string reference;                ///< init the paired rows compare against ("random", else "imagenet"; "" none)
  std::vector<PairedRow> paired;        ///< every other group with a reference group of its finetune mode
  /// The controls' verdict on this scale (suite/stats/sensitivity.hpp); unset when no controls are declared.
  std::optional<stats::Sensitivity> sensitivity;
  /// The qualitative panel (suite/report/panel.hpp): one column per group with a finished run that kept panel files
  /// (GroupRow::experiment), one row per kept image; empty when no bundle has them.
  std::vector<std::string> panel_columns;
  std::vector<PanelRow> panel;
  bool has_clcp() const;
};

struct ReportModel {
  std::string title, generated;
  std::vector<Comparison> comparisons;  ///< one per fingerprint; more than one is flagged as not comparable
  std::string baseline_name;            ///< "" when no baseline was asked for
  std::optional<stats::Baseline> baseline;
  stats::BootstrapOptions bootstrap;
  std::vector<std::string> notes;       ///< shown under the title (e.g. unmatched baseline rows)
  std::vector<PretrainRun> pretraining; ///< CLCP pretraining bundles given or used by chained inits (by cell id)
};

struct ReportOptions {
  std::string title = "clcp-bench report";
  std::string baseline;  ///< baselines/<name>.json; "a,b" merges several files; "" for none
  /// init → the `experiment` of the baseline row it stands for (protocol key report.published_rows): such a group
  /// is put beside that row whatever its finetune mode, and a note says the row is a stand-in. Other groups are
  /// matched by init and mode, CLCP checkpoints by label.
  std::map<std::string, std::string> published_rows;
  std::vector<std::filesystem::path> plans;  ///< plan-*.json files whose cells are all listed
  stats::Controls controls;  ///< the protocol's "controls" (use_protocol_report_settings); empty: no sensitivity section
  stats::BootstrapOptions bootstrap;
  /// Use finished bundles that fail verification (edited, truncated or missing files; metrics.json disagreeing with
  /// its evidence), marked "NOT VERIFIED" in the runs table and the notes; otherwise they are an error.
  bool allow_unverified = false;
  /// "generated" stamp; "" → $SOURCE_DATE_EPOCH if set, else the current UTC time.
  std::string generated;
};

/// Takes a protocol's "report" key (Protocol::to_json(), as a plan file keeps it): its baseline when `o.baseline`
/// is empty, and its published_rows; and its "controls". A protocol without the keys leaves `o` as it is.
void use_protocol_report_settings(ReportOptions& o, const nlohmann::json& protocol);

/// Reads the bundles (folders with spec.json) and plan files. Throws UserError for an unreadable bundle or plan.
ReportModel build_report_model(const std::vector<std::filesystem::path>& bundle_dirs, const ReportOptions& opts);
/// As above with a title only (what `clcp-bench run` uses after its grid).
ReportModel build_report_model(const std::vector<std::filesystem::path>& bundle_dirs, const std::string& title);

/// `path` relative to the folder `from` (links in a report folder stay valid when results and report move together);
/// `path` unchanged when `from` is empty or `path` is empty.
std::string path_from(const std::filesystem::path& from, const std::string& path);

/// Plan files (plan-*.json) directly inside `dir`, sorted.
std::vector<std::filesystem::path> find_plan_files(const std::filesystem::path& dir);

}  // namespace clcp
