// The resolved plan of a protocol run (DESIGN.md "The main job"): every cell of the grid — its kind, its
// content-addressed id, the cells it waits for, its resolved spec — plus the settings that say how the cells are run.
// A plan is frozen before any cell starts and written canonically with its own fingerprint, so an executor never
// re-derives the grid: task i of a Slurm array runs `clcp-bench run --plan FILE --cell i` (scaleout_reference.md §1.9
// items 1–2), and the local executor runs the same cells in the same order in one process.
//
// Plan file (OUT/<protocol>/plan-<scale>-<protocol fingerprint>.json, and a copy under OUT/<protocol>/slurm/<plan
// fingerprint>/plan.json for a Slurm submission): the resolved protocol (Protocol::to_json(): recipe, grid, decisions,
// "fingerprint" = the protocol fingerprint), "cells" = the cell ids in plan order (the ledger reports and `status`
// list, anchors.md §(2) item 6), and "plan":
//   {"schema": "clcp-bench/plan/1", "fingerprint": <16 hex>, "run": {RunSettings},
//    "cells": [{"index": i, "kind": "finetune"|"pretrain", "id", "label", "after": [indices], "spec": {...}}]}
// The plan fingerprint is sha256 of the canonical JSON of everything except itself and run.command (the command as
// typed is informational), first 16 hex characters.
//
// Cells are generic here: the plan knows a cell's kind, id, dependencies and spec JSON, never models or data. A
// finetune cell's spec is CellSpec::to_json() (suite/results/cell.hpp); a pretrain cell (whose exported encoder is
// the init of the finetune cells that list it in "after") carries its own spec and is added by the protocol's planner.
#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "suite/protocol/protocol.hpp"

namespace clcp {

inline constexpr const char* kPlanSchema = "clcp-bench/plan/1";

enum class CellKind { finetune, pretrain };
std::string to_string(CellKind kind);
/// "finetune" | "pretrain"; anything else throws UserError naming `where`.
CellKind cell_kind_from(const std::string& name, const std::string& where);

struct PlanCell {
  CellKind kind = CellKind::finetune;
  std::string id;              ///< content-addressed; the bundle folder OUT/<protocol>/<id>/
  std::string label;           ///< for logs and tables, e.g. "random full seed 0"
  std::vector<size_t> after;   ///< indices of the cells that must be done before this one starts (earlier in plan)
  nlohmann::json spec;         ///< the resolved spec the cell's stage reads back (CellSpec::to_json() for finetune)
};

/// How the cells are run, not what they compute: never part of a cell id. Paths are kept as the user gave them
/// (relative to `cwd`), so a cell run from the plan records the same re-run command as one run by `clcp-bench run`.
struct RunSettings {
  std::string protocol;                 ///< the --protocol argument (a name or a .json path)
  std::filesystem::path cwd;            ///< working directory the plan was made in (absolute)
  std::filesystem::path out = "results";
  std::filesystem::path data_root;      ///< "" = the embedded data
  std::string weights_dir;              ///< --weights-dir ("" = none)
  std::string device = "cpu";
  int threads = 0;                      ///< 0 = all cores of the machine that runs the cell
  std::string command;                  ///< the command as typed (provenance); not in the plan fingerprint

  nlohmann::json to_json() const;
  static RunSettings from_json(const nlohmann::json& j, const std::string& where);
};

struct Plan {
  nlohmann::json protocol;     ///< Protocol::to_json() of the resolved protocol (grid overrides applied)
  std::string protocol_name, scale, protocol_fingerprint;
  RunSettings run;
  std::vector<PlanCell> cells;

  /// sha256 of the canonical plan without its own fingerprint and run.command, first 16 hex characters.
  std::string fingerprint() const;
  nlohmann::json to_json() const;
  /// Reads what to_json() writes. Throws UserError naming `where` for a missing key, an unknown kind, a dependency
  /// that is not an earlier cell, or a recorded fingerprint that does not match the content (an edited plan).
  static Plan from_json(const nlohmann::json& j, const std::string& where);

  /// Cells grouped by depth: wave 0 has no dependencies, wave k depends only on waves < k. Plan order inside a wave.
  std::vector<std::vector<size_t>> waves() const;
  /// Index of the cell with this id; throws UserError if the plan has none.
  size_t index_of(const std::string& id) const;
  /// OUT/<protocol>/ — the folder of the bundles, plan files and reports (relative to run.cwd when relative).
  std::filesystem::path protocol_dir() const;
  /// OUT/<protocol>/plan-<scale>-<protocol fingerprint>.json
  std::filesystem::path ledger_path() const;
};

/// What a finetune grid needs besides the protocol: each init's weights sha256 ("" for random) and the dataset
/// manifest hashes ({"source_train", "source_eval", "target"}).
struct FinetuneGridInputs {
  std::map<std::string, std::string> init_sha256;
  nlohmann::json datasets;
};

/// One finetune cell per (init × finetune mode × seed) of `p`, in that nesting order (the order `clcp-bench run` has
/// always used), none depending on another.
Plan plan_finetune_grid(const Protocol& p, const FinetuneGridInputs& in, const RunSettings& run);

/// Writes plan.to_json() canonically and atomically (fsio.hpp).
void write_plan(const std::filesystem::path& path, const Plan& plan);
/// Reads a plan file; errors as Plan::from_json, naming the file.
Plan read_plan(const std::filesystem::path& path);

}  // namespace clcp
