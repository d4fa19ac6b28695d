// The result bundle of one cell, results/<protocol>/<cell-id>/ (schema "clcp-bench/bundle/1"):
//   spec.json         resolved cell spec (CellSpec) + fingerprint
//   provenance.json   environment, command, times (see provenance.hpp)
//   status.json       {"state": "running"|"done"|"failed"|"interrupted", "stage", "error", "updated"} (+ "pid" while
//                     running); "done" is written last and is the bundle's final record: "files" lists every other
//                     file with its size and XXH3-128 hash, which readers verify (integrity.hpp)
//   train_log.jsonl   one JSON object per logged iteration (train stage)
//   checkpoints/      iter_N.safetensors (+ optimiser state), latest.json
//   evidence/<name>.jsonl  per-image TP/FP/FN per class (eval stage), e.g. cityscapes_val, acdc_val
//   metrics.json      summarise(): source, target pooled and per condition, rPD
// Every file is written atomically, so a crash never leaves a half-written file that looks finished.
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "suite/results/cell.hpp"

namespace clcp {

inline constexpr const char* kBundleSchema = "clcp-bench/bundle/1";

class Bundle {
 public:
  explicit Bundle(std::filesystem::path dir) : dir_(std::move(dir)) {}
  /// results_root/<protocol>/<cell id>
  static Bundle for_cell(const std::filesystem::path& results_root, const CellSpec& spec);

  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path spec_path() const { return dir_ / "spec.json"; }
  std::filesystem::path provenance_path() const { return dir_ / "provenance.json"; }
  std::filesystem::path status_path() const { return dir_ / "status.json"; }
  std::filesystem::path metrics_path() const { return dir_ / "metrics.json"; }
  std::filesystem::path train_log_path() const { return dir_ / "train_log.jsonl"; }
  std::filesystem::path checkpoints_dir() const { return dir_ / "checkpoints"; }
  std::filesystem::path evidence_path(const std::string& name) const { return dir_ / "evidence" / (name + ".jsonl"); }

  /// spec.json of a finetune cell: CellSpec::to_json() with the bundle schema and the cell id.
  static nlohmann::json spec_record(const CellSpec& spec);
  void write_spec(const CellSpec& spec) const;
  void write_provenance(const nlohmann::json& provenance) const;
  void write_metrics(const nlohmann::json& metrics) const;
  /// Writes status.json atomically. State "done" hashes every file of the bundle into it first (the final record);
  /// write it only after everything else. Throws UserError if the write fails (full disk: names the file).
  void write_status(const std::string& state, const std::string& stage, const std::string& error = "") const;

  /// State in status.json, or nullopt when there is none.
  std::optional<std::string> state() const;
  bool done() const { return state() == "done"; }
  CellSpec read_spec() const;
  nlohmann::json read_metrics() const;
  nlohmann::json read_provenance() const;

 private:
  std::filesystem::path dir_;
};

/// Result bundle folders (with spec.json) at or below `root`, sorted; none when it does not exist.
std::vector<std::filesystem::path> find_bundles(const std::filesystem::path& root);

}  // namespace clcp
