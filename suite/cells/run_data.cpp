// The datasets of a protocol run: the embedded data (rendered on first use) or a user's dataset root, read once.
#include <spdlog/spdlog.h>

#include "suite/cells/run.hpp"
#include "suite/core/error.hpp"
#include "suite/data/acdc.hpp"
#include "suite/data/cityscapes.hpp"
#include "suite/data/manifest.hpp"
#include "suite/data/synth/synth.hpp"

namespace clcp::cells {
namespace fs = std::filesystem;

RunData read_run_data(const Protocol& p, const fs::path& data_root) {
  fs::path root = data_root;
  if (root.empty()) {
    root = "data/synth";
    if (!fs::exists(root / "SYNTH.json")) {
      spdlog::info("data: no --data-root given and {} does not exist yet; rendering the embedded default data there",
                   root.string());
      synth::SynthOptions so;
      so.out = root;
      const auto s = synth::generate(so);
      spdlog::info("data: rendered {} files in {:.1f}s", s.files_written, s.wall_seconds);
    }
  }
  if (!fs::is_directory(root))
    fail("{}: data root not found; pass --data-root DIR holding cityscapes/ and acdc/ (or omit it for the embedded "
         "data)",
         root.string());
  RunData d;
  d.source_train = read_cityscapes(root / "cityscapes", p.source_train_split);
  d.source_eval = read_cityscapes(root / "cityscapes", p.source_eval_split);
  d.target = read_acdc(root / "acdc", p.target_split, p.target_conditions);
  d.manifest_hashes = {{"source_train", manifest_hash(d.source_train)},
                       {"source_eval", manifest_hash(d.source_eval)},
                       {"target", manifest_hash(d.target)},
                       {"root", fs::absolute(root).lexically_normal().string()}};
  spdlog::info("data: {} — cityscapes {} {} images, {} {} images; acdc {} {} images", root.string(),
               p.source_train_split, d.source_train.records.size(), p.source_eval_split, d.source_eval.records.size(),
               p.target_split, d.target.records.size());
  return d;
}

}  // namespace clcp::cells
