// One CLCP pretraining cell end to end (`clcp-bench pretrain`, and the pretraining links of chained protocols):
// A2D2 pairs (suite/data) → ClcpModel with its inits (models) → the loop (suite/pretrain) → the bundle
// results/<protocol>/<cell-id>/ (suite/results). The CLI is the only place that knows all of them.
#pragma once
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "suite/data/pretrain_data.hpp"
#include "suite/dist/comm.hpp"
#include "suite/protocol/pretrain_protocol.hpp"
#include "suite/results/pretrain_cell.hpp"

namespace clcp::cells {

struct PretrainOptions {
  std::string protocol = "clcp_a2d2";
  std::string scale;            ///< "" → full for real data, smoke for the embedded data
  std::optional<std::string> head, lidar_mode;
  bool augment = false;         ///< --augment (on top of the protocol's setting)
  ProtocolOverrides set;        ///< --set KEY=VALUE, applied after the variant flags (suite/protocol/overrides.hpp)
  std::optional<int64_t> seed;
  std::string image_init, lidar_init;  ///< "" → the protocol's
  std::filesystem::path data_root;     ///< holds a2d2/ ("" → data/synth, rendered on first use)
  std::string device = "cpu";
  int threads = 0;
  std::filesystem::path out = "results";
  bool force = false;
  bool wait = false;            ///< another process runs this cell: wait for it instead of stopping
  std::string command_line;
  nlohmann::json executor;      ///< the scheduler task that runs the cell (provenance "executor"); null here
  // data parallel (suite/dist): set from --negatives and from the group the process joined
  std::string negatives = "local";  ///< "local" (per-rank InfoNCE, the thesis's DDP) | "global" (gathered)
  int world = 1;                    ///< ranks of the group this process is in
};

/// The protocol at the chosen scale with the command line's variant overrides applied (head, lidar, augment).
PretrainProtocol resolve_pretrain_protocol(const PretrainOptions& o);

/// data_root/a2d2/camera_lidar_semantic (data/synth rendered when data_root is empty and it is missing).
PretrainData read_pretrain_data(const PretrainProtocol& p, const std::filesystem::path& data_root);

/// The content-addressed spec of the cell (reads the inits' sha256; nothing is trained). With o.world > 1 its
/// "distributed" record (world size, negatives and negatives per query, rows per rank, gradient and BatchNorm
/// synchronisation) is part of it and of its id.
PretrainCellSpec pretrain_cell_spec(const PretrainProtocol& p, const PretrainOptions& o, const PretrainData& data);

/// Runs (or resumes, or skips when done) the cell. Returns its bundle folder. With a `comm` of world W > 1 every rank
/// calls it together: rank 0 takes the cell's lock, decides run / skip and writes the bundle; the other ranks train
/// their rows of each batch and write nothing (suite/pretrain/pretrain.hpp).
std::filesystem::path run_pretrain_cell(const PretrainProtocol& p, const PretrainOptions& o, const PretrainData& data,
                                        const PretrainCellSpec& spec, dist::Comm* comm = nullptr);

}  // namespace clcp::cells
