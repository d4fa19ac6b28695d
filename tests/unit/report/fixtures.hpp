// Result bundles with hand-computable numbers for the report tests. Evidence has no false positives
// (pred_area = intersect) and 100 labelled pixels per class and image, so IoU_c = intersect / 100 and every mIoU is
// the chosen quality: Cityscapes val mIoU = `src`, ACDC val mIoU of condition k = `tgt` + kConditionOffset[k], pooled
// = the mean of the four (equal areas). Class 16 (train) is absent everywhere → NaN. metrics.json is summarise() of
// that evidence, as `clcp-bench run` writes it.
#pragma once
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "suite/core/fsio.hpp"
#include "suite/eval/evidence.hpp"
#include "suite/eval/metrics.hpp"
#include "suite/report/table_model.hpp"
#include "suite/results/bundle.hpp"

namespace fixtures {
namespace fs = std::filesystem;
using nlohmann::json;

inline const std::vector<std::string> kConditions{"fog", "night", "rain", "snow"};
inline constexpr double kConditionOffset[4] = {0.04, -0.10, 0.02, 0.04};  // pooled = tgt + 0

inline clcp::ImageEvidence image(const std::string& id, const std::string& dataset, const std::string& cond, double q) {
  clcp::ImageEvidence e;
  e.id = id;
  e.dataset = dataset;
  e.condition = cond;
  for (int c = 0; c < clcp::kNumClasses; ++c) {
    if (c == 16) continue;
    e.label_area[c] = 100;
    e.intersect[c] = e.pred_area[c] = std::llround(q * 100);
  }
  return e;
}

struct Cell {
  std::string init = "imagenet", mode = "full";
  int64_t seed = 0;
  double src = 0.60, tgt = 0.30;  ///< mIoU as fractions
  std::string fingerprint = "fp00000000000000";
  std::string state = "done";     ///< done | failed
  std::string error;
};

/// Writes the bundle of `c` under root/dg_acdc/<cell id> and returns its folder.
inline fs::path make_bundle(const fs::path& root, const Cell& c) {
  clcp::CellSpec s;
  s.protocol = "dg_acdc";
  s.scale = "ci";
  s.fingerprint = c.fingerprint;
  s.init = c.init;
  s.finetune_mode = c.mode;
  s.seed = c.seed;
  s.datasets = json::object();
  s.recipe = {{"source", {{"dataset", "cityscapes"}, {"eval_split", "val"}}},
              {"target", {{"dataset", "acdc"}, {"split", "val"}, {"conditions", kConditions}}}};
  const auto b = clcp::Bundle::for_cell(root, s);
  b.write_spec(s);
  b.write_provenance({{"command", "clcp-bench run --protocol dg_acdc --scale ci --init " + c.init + " --finetune " +
                                      c.mode + " --seed " + std::to_string(c.seed)}});
  // Two logged iterations: loss falls, lr follows the poly schedule's first steps.
  std::string log;
  for (int it : {6, 12})
    log += json{{"iter", it}, {"loss", 3.0 - 0.1 * it - 0.01 * c.seed}, {"lr", 0.01 * (1.0 - it / 24.0)}}.dump() + "\n";
  clcp::write_atomic(b.train_log_path(), log);
  if (c.state != "done") {
    b.write_status(c.state, "finetune", c.error);
    return b.dir();
  }
  std::vector<clcp::ImageEvidence> src{image("cs/a.png", "cityscapes", "", c.src), image("cs/b.png", "cityscapes", "", c.src)};
  std::vector<clcp::ImageEvidence> tgt;
  for (size_t k = 0; k < kConditions.size(); ++k)
    tgt.push_back(image("acdc/" + kConditions[k] + ".png", "acdc", kConditions[k], c.tgt + kConditionOffset[k]));
  clcp::write_evidence_jsonl(b.evidence_path("cityscapes_val"), src);
  clcp::write_evidence_jsonl(b.evidence_path("acdc_val"), tgt);
  b.write_metrics(clcp::summarise(src, tgt));
  b.write_status("done", "done");
  return b.dir();
}

/// The demo set of the golden files: imagenet full (3 seeds), imagenet frozen (2 done + 1 failed), clcp@ep19 and
/// clcp-b256-mlp-fb@ep35 (1 seed each), and a plan file listing one more cell that never ran.
struct Demo {
  fs::path root;
  std::vector<fs::path> bundles;
  fs::path plan;
};

inline Demo make_demo(const fs::path& root) {
  fs::remove_all(root);
  Demo d;
  d.root = root;
  for (int s = 0; s < 3; ++s) d.bundles.push_back(make_bundle(root, {"imagenet", "full", s, 0.60 + 0.01 * s, 0.30 + 0.01 * s}));
  for (int s = 0; s < 2; ++s) d.bundles.push_back(make_bundle(root, {"imagenet", "frozen", s, 0.50, 0.35 + 0.02 * s}));
  d.bundles.push_back(make_bundle(
      root, {"imagenet", "frozen", 2, 0, 0, "fp00000000000000", "failed",
             "cityscapes/leftImg8bit/train/x.png: label missing; render the data again with clcp-bench data synth"}));
  d.bundles.push_back(make_bundle(root, {"clcp@ep19", "full", 0, 0.55, 0.28}));
  d.bundles.push_back(make_bundle(root, {"clcp-b256-mlp-fb@ep35", "full", 0, 0.52, 0.25}));
  d.plan = root / "dg_acdc" / "plan-ci-fp00000000000000.json";
  json cells = json::array();
  for (const auto& b : d.bundles) cells.push_back(b.filename().string());
  cells.push_back("imagenet.frozen.s3-0123456789ab");
  clcp::write_json_atomic(d.plan, {{"fingerprint", "fp00000000000000"}, {"scale", "ci"}, {"cells", cells}});
  return d;
}

/// The report options of the golden and visual tests: both thesis baselines, the demo's plan, 200 bootstrap
/// replicates and a fixed "generated" stamp, so the output is the same on every machine.
inline clcp::ReportOptions demo_options(const Demo& d, const std::string& title) {
  clcp::ReportOptions o;
  o.title = title;
  o.generated = "2026-01-01T00:00:00Z";
  o.baseline = "thesis-table-4.1,thesis-table-4.3";
  o.plans = {d.plan};
  o.bootstrap.replicates = 200;
  return o;
}

}  // namespace fixtures
