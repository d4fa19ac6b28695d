// Dataset-level segmentation metrics from per-image evidence, with mmseg 1.2.2 IoUMetric semantics
// (mmseg_reference.md §7; clcp_reference.md §3.2–3.3): counts are summed over all images first, then
// IoU_c = I/U, Acc_c = I/label_area, mIoU/mAcc = nanmean over the 19 classes, aAcc = ΣI/Σlabel_area.
// Values are fractions in [0,1] (reports multiply by 100); counts are int64, arithmetic is double
// (mmseg uses float32 histograms; with int64 counts ours are exact).
#pragma once
#include <array>
#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <vector>

#include "suite/eval/evidence.hpp"

namespace clcp {

struct Metrics {
  std::array<double, kNumClasses> iou{};  ///< I/U; NaN where U = 0 (class neither labelled nor predicted)
  std::array<double, kNumClasses> acc{};  ///< I/label_area; NaN where label_area = 0
  double mIoU = 0, aAcc = 0, mAcc = 0;    ///< nanmean of iou / ΣI/Σlabel_area / nanmean of acc; NaN if undefined
  int64_t images = 0;                     ///< images accumulated
  std::array<int64_t, kNumClasses> intersect{}, union_{}, label_area{};  ///< summed over images

  /// {"IoU": [19 numbers|null], "Acc": [...], "mIoU", "aAcc", "mAcc" (number|null), "images",
  ///  "intersect", "union", "label_area" ([19 ints]), "classes": [19 names]}. NaN is written as null.
  nlohmann::json to_json() const;
};

using EvidenceFilter = std::function<bool(const ImageEvidence&)>;

/// Sums the evidence (only images for which `keep` is true, if given) and computes the metrics.
/// A class absent from GT but predicted gets IoU 0 and counts in mIoU; a class absent from both is NaN and excluded.
Metrics compute_metrics(const std::vector<ImageEvidence>& evidence, const EvidenceFilter& keep = {});

/// {"source": metrics(source),
///  "target": {"pooled": metrics(all target images, one IoUMetric as the ACDC ConcatDataset),
///             "per_condition": {"fog": metrics, …}},   // conditions found in target, sorted
///  "rPD": target pooled mIoU / source mIoU}             // null if either is NaN or the source mIoU is 0
nlohmann::json summarise(const std::vector<ImageEvidence>& source, const std::vector<ImageEvidence>& target);

}  // namespace clcp
