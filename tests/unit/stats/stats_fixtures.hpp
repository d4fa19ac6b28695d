// Small hand-made evidence and result bundles for the statistics tests.
#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "suite/eval/evidence.hpp"
#include "support/run_command.hpp"

namespace clcp::test {

/// One image whose counts are all zero except class `c`: intersect i, pred_area p, label_area l.
ImageEvidence one_class_image(const std::string& id, const std::string& dataset, const std::string& condition, int c,
                              int64_t i, int64_t p, int64_t l);

/// Writes a finished result bundle under `root` (spec.json, status.json "done", evidence/cityscapes_val.jsonl,
/// evidence/acdc_val.jsonl) for the given identity and evidence; returns its folder.
std::filesystem::path write_bundle(const std::filesystem::path& root, const std::string& init, const std::string& mode,
                                   int64_t seed, const std::string& fingerprint,
                                   const std::vector<ImageEvidence>& source, const std::vector<ImageEvidence>& target,
                                   const std::string& state = "done");

/// Evidence of a synthetic model: `n_src` source images and `n_per_cond` images per condition (fog, night), 3 classes
/// each; `quality` in (0,1) scales the intersect, `jitter_seed` perturbs per image (0 → none).
void synthetic_evidence(double quality, uint64_t jitter_seed, int n_src, int n_per_cond,
                        std::vector<ImageEvidence>& source, std::vector<ImageEvidence>& target);

/// Finished bundles of one init under root/<init>, one per seed s, from synthetic_evidence(quality + 0.01·s,
/// jitter_base + s, n_src, n_per_cond): the jitter depends on the seed only, so two inits written with the same
/// jitter_base share the images' difficulty pattern and differ by quality. Returns root/<init>.
std::filesystem::path write_seeded_side(const std::filesystem::path& root, const std::string& init,
                                        const std::string& mode, double quality, const std::vector<int64_t>& seeds,
                                        const std::string& fingerprint, uint64_t jitter_base, int n_src,
                                        int n_per_cond);

/// A fresh empty temporary folder named after `tag`.
std::filesystem::path fresh_dir(const std::string& tag);

using ExeResult = CommandResult;
/// Runs `clcp-bench <args>` (stdout + stderr).
ExeResult run_bench(const std::string& args);
bool bench_exe_exists();

}  // namespace clcp::test
