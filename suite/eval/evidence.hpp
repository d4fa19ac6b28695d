// Per-image evidence: per-class pixel counts from which every metric (IoU, Acc, per condition, pooled, bootstrap
// CIs) is recomputed offline. Counting is mmseg 1.2.2 intersect_and_union (mmseg_reference.md §7).
#pragma once
#include <torch/torch.h>

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

/// pred, label: [H,W] integer tensors (any integer dtype, any device) of the same shape; pred in trainIds.
/// Pixels whose label is 255 (kIgnoreIndex) count nowhere; any value outside 0..18 is dropped from the histogram it
/// would enter (as torch.histc in mmseg): a pred of 200 is in no pred_area, a label of 30 in no label_area.
/// Throws UserError naming `id` if the shapes differ.
ImageEvidence image_evidence(const torch::Tensor& pred, const torch::Tensor& label, const std::string& id,
                             const std::string& dataset, const std::string& condition);

/// One compact JSON object per line, keys sorted (condition, dataset, id, intersect, label_area, pred_area), '\n'
/// after each line; written atomically (fsio write_atomic). Same input → same bytes.
void write_evidence_jsonl(const std::filesystem::path& path, const std::vector<ImageEvidence>& evidence);

/// Reads what write_evidence_jsonl writes (blank lines skipped). Throws UserError naming the file and line for bad
/// JSON, a missing key, an array not of 19 non-negative integers, or intersect > pred_area or > label_area.
std::vector<ImageEvidence> read_evidence_jsonl(const std::filesystem::path& path);

}  // namespace clcp
