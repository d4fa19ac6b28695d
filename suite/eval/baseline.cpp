#include "suite/eval/baseline.hpp"

#include <algorithm>

namespace clcp {

double best_constant_class_miou(const std::vector<ImageEvidence>& evidence) {
  std::array<int64_t, kNumClasses> area{};
  for (const auto& e : evidence)
    for (int k = 0; k < kNumClasses; ++k) area[k] += e.label_area[k];
  int64_t total = 0;
  int present = 0;
  for (int k = 0; k < kNumClasses; ++k) {
    total += area[k];
    present += area[k] > 0;
  }
  if (total == 0) return 0.0;
  double best = 0.0;
  for (int c = 0; c < kNumClasses; ++c) {
    // Predicting c where it is absent from the ground truth adds it to the mean with IoU 0.
    const int classes_in_mean = present + (area[c] == 0 ? 1 : 0);
    best = std::max(best, static_cast<double>(area[c]) / static_cast<double>(total) / classes_in_mean);
  }
  return best;
}

}  // namespace clcp
