// Per-image evidence: per-class pixel counts from which every metric (IoU, Acc, per condition, pooled, bootstrap
// CIs) is recomputed offline. The counts of one image come from image_evidence() (suite/eval/image_evidence.hpp, the
// only part that needs LibTorch); this header, included by results, stats, report and gate, needs none.
#pragma once
#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "suite/data/labels.hpp"

namespace clcp {

/// Counts for one image over the 19 trainIds. TP = intersect, FP = pred_area − intersect, FN = label_area − intersect.
struct ImageEvidence {
  std::string id;         ///< ImageRecord::id (image path relative to the dataset root)
  std::string dataset;    ///< "cityscapes" | "acdc"
  std::string condition;  ///< "" for Cityscapes; "fog" | "night" | "rain" | "snow" for ACDC
  std::array<int64_t, kNumClasses> intersect{};   ///< pixels with pred == label == c
  std::array<int64_t, kNumClasses> pred_area{};   ///< pixels predicted c (label ≠ 255)
  std::array<int64_t, kNumClasses> label_area{};  ///< pixels labelled c
  bool operator==(const ImageEvidence&) const = default;
};

/// One compact JSON object per line, keys sorted (condition, dataset, id, intersect, label_area, pred_area), '\n'
/// after each line; written atomically (fsio write_atomic). Same input → same bytes.
void write_evidence_jsonl(const std::filesystem::path& path, const std::vector<ImageEvidence>& evidence);

/// Reads what write_evidence_jsonl writes (blank lines skipped). Throws UserError naming the file and line for bad
/// JSON, a missing key, an array not of 19 non-negative integers, or intersect > pred_area or > label_area.
std::vector<ImageEvidence> read_evidence_jsonl(const std::filesystem::path& path);

}  // namespace clcp
