// When rPD means something. rPD = mIoU_target / mIoU_source compares how much of its source skill a model keeps under
// shift; a model whose source mIoU is near what predicting one class everywhere reaches has no skill to keep, and its
// ratio only reflects how the class frequencies differ between the two sets (the embedded smoke study's 3-class
// models read "better" on rPD while worse on both mIoUs). The rule, the same in `compare`, the report and the gate:
//
//   rPD is meaningful  ⇔  mIoU_source > floor,  floor = best-constant-class mIoU of the same source images + 0.10
//
// (ten mIoU points above the trivial predictor, suite/eval/baseline.hpp; metrics.json records the trivial value as
// source.best_constant_class_mIoU). For a group of seeds the rule applies to the means. Values are fractions in [0,1].
#pragma once
#include <string>

namespace clcp::stats {

/// Margin above the best-constant-class mIoU (fraction: 0.10 = ten mIoU points).
inline constexpr double kRpdFloorMargin = 0.10;

struct RpdValidity {
  bool meaningful = false;
  double miou_source = 0, floor = 0;  ///< fractions
  /// "" when meaningful, else "rPD not meaningful (source mIoU 6.74 ≤ floor 11.34)" (percent, 2 decimals).
  std::string note;
};

/// best_constant: the best-constant-class mIoU of the source images (fraction). A NaN source mIoU is not meaningful.
RpdValidity rpd_validity(double miou_source, double best_constant);

}  // namespace clcp::stats
