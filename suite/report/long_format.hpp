// The report's numbers in long ("tidy") format for pandas: one row per (group or run) × metric, the same columns in
// CSV and JSON (`pd.read_csv("report.csv")`, `pd.read_json("report.json")`; JSON is a list of records).
// Columns (kLongColumns): level "group" (mean ± sd over seeds, n, 95% bootstrap CI) or "run" (one seed's value);
// dataset cityscapes_val | acdc_val; condition "" (Cityscapes), pooled or an ACDC condition; class "" for mIoU/rPD,
// else the Cityscapes class name of an IoU row; metric mIoU | IoU | rPD; unit percent | ratio. Runs that are not done
// appear with empty values, their state and error line. Empty CSV field / JSON null = no value. Numbers are
// rounded to 6 decimals.
#pragma once
#include <array>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "suite/report/table_model.hpp"

namespace clcp {

inline constexpr std::array<const char*, 30> kLongColumns{
    "fingerprint", "protocol", "scale",     "experiment", "init",      "finetune_mode", "clcp_epoch", "clcp_head",
    "clcp_lidar_frozen", "clcp_augment", "level", "seed", "cell_id", "state", "dataset", "condition", "class",
    "metric", "unit", "n", "mean", "sd", "ci_low", "ci_high", "value", "published", "delta", "provenance", "command",
    "error"};

/// The rows, each a JSON object with every key of kLongColumns (null where not applicable); provenance paths are
/// relative to `out_dir` (the report folder) unless it is empty.
std::vector<nlohmann::json> long_rows(const ReportModel& model, const std::filesystem::path& out_dir = {});
/// CSV with a header line (RFC 4180 quoting, '\n' line ends).
std::string long_csv(const ReportModel& model, const std::filesystem::path& out_dir = {});
/// JSON array of the rows, pretty-printed with 1 space, keys in kLongColumns order.
std::string long_json(const ReportModel& model, const std::filesystem::path& out_dir = {});

}  // namespace clcp
