// `clcp-bench eval`: a finetuned checkpoint evaluated on the protocol's eval splits, as a cell of kind "eval" through
// the one lifecycle (lifecycle.hpp).
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "models/import/import_weights.hpp"
#include "models/import/key_map.hpp"
#include "models/safetensors.hpp"
#include "models/state_dict.hpp"
#include "suite/cells/lifecycle.hpp"
#include "suite/cells/run.hpp"
#include "suite/cells/threads.hpp"
#include "suite/core/error.hpp"
#include "suite/core/fsio.hpp"
#include "suite/core/hash.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;

fs::path evaluate_checkpoint(const RunOptions& o, const std::string& checkpoint) {
  const std::string scale = !o.scale.empty() ? o.scale : (o.data_root.empty() ? "smoke" : "full");
  const Protocol p = load_protocol(o.protocol, scale);
  if (!fs::is_regular_file(checkpoint))
    fail("--checkpoint {}: file not found; pass a checkpoints/iter_N.safetensors of a result bundle", checkpoint);
  const int threads = resolve_threads(o.threads);
  torch::set_num_threads(threads);
  const torch::Device device(o.device == "cuda" ? torch::kCUDA : torch::kCPU);
  const std::string sha = sha256_file(checkpoint);
  const RunData data = read_run_data(p, o.data_root);
  Segmenter model = build_model(p, "random", 0, device);
  const auto mapped = map_segmenter(read_tensor_file(checkpoint), p.img_size / 16, checkpoint);
  const auto report = load_state_dict(*model, mapped.tensors, false);
  if (!report.ok())
    fail("--checkpoint {}: not a Segmenter ViT-S/16 checkpoint of this protocol ({} layout): {}", checkpoint,
         mapped.layout, grouped_summary(report));
  spdlog::info("checkpoint: {} tensors from {} ({} layout{})", mapped.tensors.size(), checkpoint, mapped.layout,
               mapped.dropped.empty() ? "" : fmt::format(", {} keys dropped", mapped.dropped.size()));
  CellSpec spec;
  spec.protocol = p.name;
  spec.scale = p.scale;
  spec.fingerprint = p.fingerprint();
  spec.init = "checkpoint:" + fs::path(checkpoint).filename().string();
  spec.init_sha256 = sha;
  spec.finetune_mode = "eval";
  spec.datasets = data.manifest_hashes;
  spec.datasets.erase("root");
  spec.recipe = p.recipe_json();
  CellRunSettings rs;
  rs.command = o.command_line;
  rs.device = o.device;
  rs.threads = threads;
  rs.force = true;  // evaluating again is cheap and is what the verb is asked for
  CellLifecycle cell(Bundle(o.out / p.name / ("eval-" + sha.substr(0, 12))), "eval", "eval-" + sha.substr(0, 12), rs);
  cell.claim();
  CellStart st;
  st.spec = Bundle::spec_record(spec);
  st.rerun = o.command_line;
  st.datasets = spec.datasets;
  st.weights_sha256 = sha;
  st.seed = nullptr;
  st.fingerprint = spec.fingerprint;
  st.stage = "eval";
  cell.start(st);
  cell.run([&] {
    nlohmann::json speed;
    nlohmann::json metrics = evaluate_model(model, p, data, cell.bundle(), device, speed);
    cell.provenance()["eval"] = speed;
    cell.finish(metrics);
  });
  return cell.bundle().dir();
}

}  // namespace clcp::cells
