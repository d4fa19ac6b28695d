// The one lifecycle every cell kind goes through (finetune, pretrain, and any later kind), so that nothing is lost,
// nothing stale is reused and nothing fails silently (issues 11 and 16):
//   claim       one owner per cell (cell_lock.hpp); --wait queues behind another owner; temp files a dead owner left
//               are removed and its "running" becomes "interrupted";
//   reuse       a finished cell is reused only when it verifies (integrity.hpp) and was computed with this run's
//               LibTorch thread count (results are bit-identical only for the same count); --force recomputes it;
//   spec        spec.json, the cell's content-addressed identity, before anything is computed;
//   provenance  provenance.json: environment, command, the command that re-runs exactly this cell, start time,
//               datasets, seed, fingerprint, the scheduler task — updated as the kind learns more;
//   status      status.json "running" with the stage; on an error "failed"/"interrupted" with its one line (a failing
//               status write, e.g. a full disk, never hides that error);
//   record end  metrics.json, end and wall time in provenance.json, then status "done" last (it hashes every file).
// A kind supplies what it computes and nothing else; the lifecycle owns spec, provenance, status and metrics.
#pragma once
#include <chrono>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "suite/results/bundle.hpp"
#include "suite/results/cell_lock.hpp"

namespace clcp::cells {

/// How a cell is run, never what it computes: the same fields for every kind.
struct CellRunSettings {
  std::string command;      ///< the command as typed, recorded in provenance
  std::string device = "cpu";
  int threads = 1;          ///< LibTorch threads, resolved (threads.hpp)
  bool force = false;       ///< recompute a finished cell
  bool wait = false;        ///< queue behind another owner instead of stopping
  nlohmann::json executor;  ///< the scheduler task that runs the cell (provenance "executor"); null: none
  bool writer = true;       ///< false on data-parallel ranks > 0: they compute, rank 0 owns every file
};

/// What a kind records about the cell at its start (provenance.json).
struct CellStart {
  nlohmann::json spec;            ///< written as spec.json
  std::string rerun;              ///< the command that re-runs exactly this cell (same threads), with --force
  nlohmann::json datasets, weights_sha256, seed;
  std::string fingerprint;
  nlohmann::json extra = nlohmann::json::object();  ///< kind-specific keys (e.g. "method", "set", "distributed")
  std::string stage;              ///< the first stage ("finetune", "pretrain")
};

class CellLifecycle {
 public:
  /// `what` names the kind in log lines ("cell", "pretrain"); `id` is the cell id.
  CellLifecycle(Bundle bundle, std::string what, std::string id, CellRunSettings settings);

  /// claim + reuse. True when the cell is finished and reusable, so there is nothing to do; throws UserError when it
  /// is finished but does not verify or was computed with another thread count. Holds the cell's lock until this
  /// object is destroyed. A non-writer takes no lock and returns false.
  bool claim();
  /// spec + provenance + status "running": clears the folder under --force, then writes spec.json and
  /// provenance.json (environment, command, rerun, start, datasets, weights, seed, fingerprint, executor, extra).
  void start(const CellStart& start);
  /// status "running" with this stage.
  void stage(const std::string& stage);
  /// The provenance record; kinds add what they learn (train speed, the init file) and write it.
  nlohmann::json& provenance() { return prov_; }
  void write_provenance() const;
  /// record end: metrics.json, provenance end + wall_s, then status "done" (last).
  void finish(const nlohmann::json& metrics);
  /// Runs `body`; a UserError records "failed", an Interrupted "interrupted", each with its one line, and rethrows.
  void run(const std::function<void()>& body);

  const Bundle& bundle() const { return bundle_; }
  /// A checkpoint of an earlier, unfinished run is in the folder (the kind resumes from it).
  bool resuming() const;

 private:
  Bundle bundle_;
  std::string what_, id_;
  CellRunSettings s_;
  std::optional<CellLock> lock_;
  nlohmann::json prov_;
  std::string stage_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace clcp::cells
