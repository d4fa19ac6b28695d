// The one data model every report format renders (as llama-bench: md/html/LaTeX from one model). Built from result
// bundles only (spec.json + metrics.json + provenance.json), never from live objects, so `clcp-bench report` on
// old bundles gives the same tables as the run that wrote them. Numbers are in percent, 2 decimals, as the thesis.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "suite/results/bundle.hpp"

namespace clcp {

struct ReportCell {
  std::string cell_id, experiment;  ///< experiment in the thesis style: "imagenet", "imagenet (fb)"
  std::string init, finetune_mode, state;  ///< state: done | running | failed | missing
  int64_t seed = 0;
  std::string bundle_dir, command, error;
  std::optional<double> miou_source, miou_target, rpd, aacc_source;
  std::vector<std::optional<double>> miou_conditions;   ///< same order as ReportModel::conditions
  std::vector<std::optional<double>> iou_source, iou_target;  ///< per class (19), NaN classes as nullopt
  int64_t images_source = 0, images_target = 0;
};

struct ReportModel {
  std::string title, protocol, scale, fingerprint, generated;
  std::vector<std::string> conditions;  ///< e.g. fog, night, rain, snow
  std::vector<ReportCell> cells;
  std::vector<std::string> fingerprints;  ///< all distinct fingerprints among the bundles (a mix is flagged)
};

/// Reads the bundles (folders with spec.json). Bundles that are not done are listed with their state and no numbers.
ReportModel build_report_model(const std::vector<std::filesystem::path>& bundle_dirs, const std::string& title);

}  // namespace clcp
