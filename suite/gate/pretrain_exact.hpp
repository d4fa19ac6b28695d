// The exact tier for a pretraining cell (issue 10 §1: "and, once it exists, of clcp_a2d2"): a fresh run of the ci
// scale of a pretraining protocol on the embedded A2D2 pairs against committed golden files. On the baseline's kernel
// path (suite/results/kernel_path.hpp) every compared value must be equal: metrics.json, the deterministic fields of
// pretrain_log.jsonl (everything but "speed"), those of train_log.jsonl (epoch, step, loss, lr, temperature, tau;
// not time_s) and the sha256 of every exported encoder. On another kernel path the gate says so and checks the
// baseline's PretrainTolerance instead (exact.hpp): relative on the continuous values and on each encoder tensor's
// L2 norm, a number of val queries on the retrieval metrics.
//
// A pretrain baseline is a folder like a finetune one (exact.hpp; baseline.json "kind": "pretrain"), each cell
// <cell id>/ holding
//   spec.json, metrics.json   as the bundle has them
//   pretrain_log.jsonl        without "speed"
//   train_log.jsonl           the deterministic fields only
//   encoders.json             {"export/image_encoder_epochNN.safetensors": {"bytes", "sha256", "tensors": {name:
//                             {"shape", "sha256" (of the raw little-endian values), "norm" (L2, float64)}}}} —
//                             the 88 MB files are not committed; the per-tensor record says which tensors moved and by
//                             how much
#pragma once
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "suite/gate/exact.hpp"

namespace clcp::gate {

/// encoders.json's record of one safetensors file (see above). Throws UserError naming the file when unreadable.
nlohmann::json encoder_record(const std::filesystem::path& file);

/// Checks that a pretraining bundle the gate reads is complete: status "done", spec.json, provenance.json,
/// metrics.json, pretrain_log.jsonl, train_log.jsonl and at least one export/*.safetensors. Throws UserError.
void check_pretrain_bundle_readable(const std::filesystem::path& dir);

/// Compares fresh pretraining bundles (matched by cell id) with a pretrain baseline. A failure names the epoch and
/// field of pretrain_log.jsonl that changed and by how much, the first changed step of train_log.jsonl, and for an
/// encoder whose bytes changed the tensors whose values moved (largest relative norm change first).
ExactResult compare_pretrain_exact(const ExactBaseline& baseline, const std::vector<std::filesystem::path>& fresh);

/// Replaces the baseline folder's content with these finished pretraining bundles and returns what changed against
/// the previous baseline ("new baseline" when there was none).
std::vector<std::string> write_pretrain_baseline(const ExactBaseline& meta,
                                                 const std::vector<std::filesystem::path>& bundles);

}  // namespace clcp::gate
