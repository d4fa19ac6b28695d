// suite/cells: the one place that knows every stage (DESIGN.md). It resolves a protocol, reads the datasets, checks
// the inits, freezes the grid into a plan (suite/plan), hands the plan's cells to an executor (suite/exec) through
// one dispatcher (dispatch_cell), and renders the report. Every cell kind — finetune (finetune_cell.cpp), pretrain
// (pretrain_cell.cpp) — goes through one lifecycle (lifecycle.hpp); the datasets and models they need come from
// run_data.cpp and model_init.cpp. The CLI (suite/cli) maps flags to these options and calls these functions.
#pragma once
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "models/segmenter.hpp"
#include "suite/cells/pretrain_cell.hpp"
#include "suite/data/a2d2.hpp"
#include "suite/data/dataset.hpp"
#include "suite/protocol/pretrain_protocol.hpp"
#include "suite/results/pretrain_cell.hpp"
#include "suite/dist/comm.hpp"
#include "suite/exec/slurm.hpp"
#include "suite/plan/plan.hpp"
#include "suite/protocol/protocol.hpp"
#include "suite/results/bundle.hpp"

namespace clcp::cells {

struct RunOptions {
  std::string protocol = "dg_acdc";
  std::string scale;                      ///< "" → full for real data, smoke for the embedded data
  std::vector<std::string> inits;         ///< overrides the protocol's inits ("random" or a weights file)
  std::vector<std::string> finetune_modes;
  std::vector<int64_t> seeds;
  ProtocolOverrides set;                  ///< --set KEY=VALUE (suite/protocol/overrides.hpp), in the fingerprint
  std::filesystem::path data_root;        ///< "" → data/synth (generated on first use)
  std::string device = "cpu";
  int threads = 0;                        ///< 0 → "auto": the CPUs this process may use (threads.hpp)
  std::filesystem::path out = "results";
  bool force = false;
  bool wait = false;                      ///< a cell another process runs: wait for it instead of stopping
  std::string command_line;               ///< recorded in provenance, shown in reports
  nlohmann::json executor;                ///< the scheduler task that runs the cell (provenance "executor"); null here
};

/// A pretraining cell of a plan: its resolved protocol, the options it runs with and its spec.
struct PretrainCellRun {
  PretrainProtocol protocol;
  PretrainOptions options;
  PretrainCellSpec spec;
};

/// The datasets of a protocol, read once per run.
struct RunData {
  Split source_train, source_eval, target;
  nlohmann::json manifest_hashes;
  /// Only when the grid has chained inits (chain.hpp): the A2D2 pairs and the pretraining cells, by cell id.
  std::optional<PretrainData> pretrain_data;
  std::map<std::string, PretrainCellRun> pretrain;
};

RunData read_run_data(const Protocol& p, const std::filesystem::path& data_root);

/// Builds the Segmenter for the protocol and loads the init: "random" (timm/mmseg init from the seed) or a
/// safetensors file of ViT-S/16 weights with timm names (optionally prefixed "backbone."; "head.*" dropped).
/// Preflight: missing/unexpected keys, shape mismatches and non-finite values stop with one line; a forward of one
/// batch must give [B,19,14,14]. Returns the sha256 of the weights file ("" for random) through `init_sha256`.
Segmenter build_model(const Protocol& p, const std::string& init, int64_t seed, torch::Device device);
std::string init_sha256(const std::string& init);

/// Evaluates `model` on the protocol's source eval split and target split (slide inference), writes the per-image
/// evidence into the bundle and returns the metrics (summarise() plus the best constant-class mIoU of the source).
/// `eval_speed` receives wall-clock figures (kept out of metrics.json, which must be deterministic).
nlohmann::json evaluate_model(Segmenter& model, const Protocol& p, const RunData& data, const Bundle& b,
                              torch::Device device, nlohmann::json& eval_speed);

/// What the cells of one plan share in this process: how they run, the finetune protocol and the datasets.
struct PlanContext {
  RunOptions o;                      ///< out, threads, device, force, wait, command, executor
  const Protocol* finetune = nullptr;  ///< the plan's finetune protocol; null for a plan of pretraining cells only
  RunData data;                      ///< datasets, and the pretraining cells by id with their A2D2/image data
  dist::Comm* comm = nullptr;        ///< data-parallel group of a pretraining cell (null: one process)
};

/// The one plan dispatcher: runs cell i of `plan` by its kind through that kind's lifecycle. Used by `run` (local
/// executor), `run --plan --cell` (a scheduler's task), `gate` and `pretrain`. A pretraining cell must be in
/// ctx.data.pretrain (make_plan, make_pretrain_plan, or resolved from a plan file).
void dispatch_cell(const Plan& plan, size_t i, PlanContext& ctx);

/// A plan of one pretraining cell (`clcp-bench pretrain`, the gate's pretraining baselines): resolves the protocol,
/// reads its data (rank 0 first with a `comm`), computes the spec and records it in ctx.data.pretrain.
Plan make_pretrain_plan(const PretrainOptions& o, PlanContext& ctx);

/// `clcp-bench eval`: a finetuned checkpoint (clcp-bench iter_N.safetensors, or an mmseg Segmenter .pth) evaluated on
/// the protocol's eval splits into OUT/<protocol>/eval-<sha256[:12]>/ (recomputed each time); returns that folder.
/// Throws UserError for a missing file or a checkpoint that is not a Segmenter ViT-S/16 of this protocol.
std::filesystem::path evaluate_checkpoint(const RunOptions& o, const std::string& checkpoint);

/// Runs one cell into its bundle. Returns true when it ran, false when it was already done (and not forced).
bool run_cell(const Protocol& p, const RunData& data, const CellSpec& spec, const RunOptions& o);
/// Threads a run uses: `requested`, or all cores when it is 0.
int effective_threads(int requested);
/// Makes Ctrl-C (SIGINT) a stop request for the running cell: it checkpoints and ends "interrupted".
void install_stop_handler();

/// The protocol of a run with the command line's grid overrides applied and checked; sets LibTorch's thread count.
Protocol resolve_protocol(const RunOptions& o);
/// The options a chained pretraining cell of this run uses (its data, device, threads, results root, command).
PretrainOptions pretrain_options(const RunOptions& o, const PretrainProtocol& p);
/// Checks the inits, reads the datasets and freezes the grid into a plan (nothing is written).
Plan make_plan(const Protocol& p, const RunOptions& o, RunData& data);
/// Writes the report of every cell of the plan that has a bundle to OUT/<protocol>/report-<scale>/; returns it.
std::filesystem::path write_plan_report(const Plan& plan);

/// `clcp-bench run`: the whole grid with the local executor; returns the report folder.
std::filesystem::path run_protocol(const RunOptions& o);
/// `clcp-bench run --executor slurm`: freezes the plan, writes it to OUT/<protocol>/slurm/<plan fingerprint>/ and
/// submits the cells that are not done yet (run_slurm.cpp); returns that folder (the report folder when every cell
/// is already done).
std::filesystem::path submit_protocol(const RunOptions& o, const SlurmOptions& slurm);
/// `clcp-bench run --plan FILE --cell i`: cell i of a frozen plan (run_from_plan.cpp). Refuses, with one line, an
/// index out of range, a plan that does not match its fingerprint, a protocol whose fingerprint moved since, changed
/// weights or datasets, and a cell whose dependencies are not done. Returns false when the cell was already done.
bool run_plan_cell(const std::filesystem::path& plan_file, int64_t index);
/// `clcp-bench run --plan FILE --report`: the report of every cell of the plan; returns the report folder.
std::filesystem::path report_plan(const std::filesystem::path& plan_file);

}  // namespace clcp::cells
