#include "stats_fixtures.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>

#include "suite/core/fsio.hpp"
#include "suite/core/rng.hpp"
#include "suite/results/bundle.hpp"
#include "support/test_paths.hpp"

namespace clcp::test {
namespace fs = std::filesystem;

ImageEvidence one_class_image(const std::string& id, const std::string& dataset, const std::string& condition, int c,
                              int64_t i, int64_t p, int64_t l) {
  ImageEvidence ev;
  ev.id = id;
  ev.dataset = dataset;
  ev.condition = condition;
  ev.intersect[c] = i;
  ev.pred_area[c] = p;
  ev.label_area[c] = l;
  return ev;
}

fs::path write_bundle(const fs::path& root, const std::string& init, const std::string& mode, int64_t seed,
                      const std::string& fingerprint, const std::vector<ImageEvidence>& source,
                      const std::vector<ImageEvidence>& target, const std::string& state) {
  CellSpec spec;
  spec.protocol = "dg_acdc";
  spec.scale = "test";
  spec.fingerprint = fingerprint;
  spec.init = init;
  spec.finetune_mode = mode;
  spec.seed = seed;
  spec.datasets = {{"source_eval", "s"}, {"source_train", "t"}, {"target", "a"}};
  spec.recipe = {{"source", {{"dataset", "cityscapes"}, {"eval_split", "val"}, {"train_split", "train"}}},
                 {"target", {{"dataset", "acdc"}, {"split", "val"}}}};
  const Bundle b = Bundle::for_cell(root, spec);
  fs::create_directories(b.dir() / "evidence");
  b.write_spec(spec);
  if (state == "done") {
    write_evidence_jsonl(b.evidence_path("cityscapes_val"), source);
    write_evidence_jsonl(b.evidence_path("acdc_val"), target);
  }
  b.write_status(state, state, state == "failed" ? "out of memory" : "");
  return b.dir();
}

void synthetic_evidence(double quality, uint64_t jitter_seed, int n_src, int n_per_cond,
                        std::vector<ImageEvidence>& source, std::vector<ImageEvidence>& target) {
  source.clear();
  target.clear();
  auto make = [&](const std::string& id, const std::string& ds, const std::string& cond, double q, uint64_t k) {
    ImageEvidence ev;
    ev.id = id;
    ev.dataset = ds;
    ev.condition = cond;
    Stream s(jitter_seed, "fixture", k);
    for (int c = 0; c < 3; ++c) {
      const int64_t label = 1000 + 100 * c + (jitter_seed ? s.randint(0, 400) : 0);
      const double qq = std::clamp(q + (jitter_seed ? s.uniform(-0.1, 0.1) : 0.0), 0.0, 1.0);
      const auto inter = static_cast<int64_t>(qq * static_cast<double>(label));
      ev.label_area[c] = label;
      ev.intersect[c] = inter;
      ev.pred_area[c] = inter + (label - inter) / 2;
    }
    return ev;
  };
  uint64_t k = 0;
  for (int i = 0; i < n_src; ++i) source.push_back(make("cs/" + std::to_string(i), "cityscapes", "", quality, k++));
  for (const char* cond : {"fog", "night"})
    for (int i = 0; i < n_per_cond; ++i)
      target.push_back(make(std::string("acdc/") + cond + "/" + std::to_string(i), "acdc", cond, quality * 0.6, k++));
}

fs::path write_seeded_side(const fs::path& root, const std::string& init, const std::string& mode, double quality,
                           const std::vector<int64_t>& seeds, const std::string& fingerprint, uint64_t jitter_base,
                           int n_src, int n_per_cond) {
  const fs::path dir = root / init;
  for (int64_t s : seeds) {
    std::vector<ImageEvidence> src, tgt;
    synthetic_evidence(quality + 0.01 * static_cast<double>(s), jitter_base + static_cast<uint64_t>(s), n_src,
                       n_per_cond, src, tgt);
    write_bundle(dir, init, mode, s, fingerprint, src, tgt);
  }
  return dir;
}

fs::path fresh_dir(const std::string& tag) {
  const fs::path d = fs::temp_directory_path() / ("clcp_stats_" + tag + "_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

bool bench_exe_exists() { return fs::exists(CLCP_BENCH_EXE); }

ExeResult run_bench(const std::string& args) {
  return run_command(std::string(CLCP_BENCH_EXE) + " " + args);
}

}  // namespace clcp::test
