// The trivial reference every segmentation number should beat: predicting one class everywhere. For constant class
// c, IoU_c = label_area_c / Σ label_area (every labelled pixel is predicted c), every other class present in the
// ground truth has IoU 0, classes absent from it are NaN (excluded, as mmseg's nanmean). The best c is returned.
#pragma once
#include <vector>

#include "suite/eval/evidence.hpp"

namespace clcp {

/// Best mIoU (fraction in [0,1]) a constant-class prediction reaches on the images of `evidence`; 0 if none labelled.
double best_constant_class_miou(const std::vector<ImageEvidence>& evidence);

}  // namespace clcp
